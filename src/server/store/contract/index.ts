// The backend-agnostic store contract (cf. mattermost's storetest, hono's common.case.test):
// every Store implementation runs this suite unchanged. It uses one store instance for the
// whole run and unique names/ids per test, so it also works against a reused database.
import { after, before, describe } from 'node:test';
import type { Store } from '../store.js';
import { channelsContract } from './channels.js';
import type { Ctx } from './fixtures.js';
import { filesContract } from './files.js';
import { membersContract } from './members.js';
import { messagesContract } from './messages.js';
import { metaContract } from './meta.js';
import { notificationsContract } from './notifications.js';
import { pagingContract } from './paging.js';
import { searchContract } from './search.js';
import { tokensContract } from './tokens.js';
import { usersContract } from './users.js';

export type OpenStore = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

export function runStoreContract(label: string, open: OpenStore): void {
  describe(`Store contract: ${label}`, () => {
    const ctx = {} as Ctx;
    let cleanup: (() => Promise<void>) | undefined;
    before(async () => {
      const opened = await open();
      ctx.store = opened.store;
      cleanup = opened.cleanup;
      await ctx.store.migrate();
    });
    after(async () => {
      await cleanup?.();
    });
    usersContract(ctx); // first: observes the empty store
    tokensContract(ctx);
    channelsContract(ctx);
    membersContract(ctx);
    messagesContract(ctx);
    notificationsContract(ctx);
    pagingContract(ctx);
    metaContract(ctx);
    filesContract(ctx);
    searchContract(ctx);
  });
}
