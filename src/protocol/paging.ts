// Page sizes of every paged read: one table for the wire (the REST query schemas in rest.ts take
// their `limit` bounds and defaults from it) and for the stores (store/paging.ts refuses anything
// outside 1..max). A client reads the same numbers. No Node-only code here.
//
// Why these maxima: a page must stay one bounded query and one bounded reply. Messages carry up to
// 16 KiB of text each, so history and thread pages stop at 200 (≤ ~3 MiB); the WebSocket resume
// and repair read history in pages of the same size. Members and users are small rows; members
// go to 1000 so that a channel filled by one AddMembers call (≤ 1000 ids) is listed in one page.
export const PAGE_LIMITS = {
  /** GET /api/channels/:id/messages — MessageStore.history */
  history: { max: 200, default: 50 },
  /** GET /api/messages/:id/thread — MessageStore.thread */
  thread: { max: 200, default: 100 },
  /** GET /api/channels?browse=public — ChannelStore.listPublic */
  publicChannels: { max: 200, default: 100 },
  /** GET /api/channels/:id/members — ChannelStore.listMembers */
  members: { max: 1000, default: 100 },
  /** GET /api/users — UserStore.search */
  users: { max: 100, default: 20 },
  /** GET /api/notifications — NotificationStore.list */
  notifications: { max: 100, default: 50 },
} as const;

export type PagedRead = keyof typeof PAGE_LIMITS;
