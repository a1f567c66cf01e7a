// Avatar fallbacks (the thumbnail itself is checked in Chromium against a real server:
// test/web/avatar.test.ts): initials from the display name, and initials when there is no avatar.
import { afterEach, describe, expect, it } from 'vitest';
import type { PublicUser } from '../../../src/protocol/index.js';
import { Chat } from '../chat.js';
import { ChatContext } from '../hooks.js';
import { type Mounted, mount } from '../test-utils.js';
import { Avatar, avatarThumbUrl, initials } from './Avatar.js';

let m: Mounted | undefined;
afterEach(() => m?.unmount());

const user = (id: string, displayName: string): PublicUser => ({
  id,
  username: 'ada',
  displayName,
  role: 'member',
  status: null,
  avatarFileId: null,
  createdAt: '2026-11-30T08:00:00.000Z',
  deactivatedAt: null,
});

describe('Avatar', () => {
  it('initials: first letters of the first two words, upper case, "?" when empty', () => {
    expect(initials('Ada Lovelace')).toBe('AL');
    expect(initials('  grace   brewster hopper ')).toBe('GB');
    expect(initials('Émile')).toBe('É');
    expect(initials('😀 smile')).toBe('😀S');
    expect(initials('')).toBe('?');
  });

  it('shows initials and no image for a user without an avatar; the thumbnail URL is escaped', async () => {
    const chat = new Chat();
    const id = 'u'.repeat(22);
    chat.store.setUsers([user(id, 'Ada Lovelace')]);
    m = await mount(
      <ChatContext.Provider value={chat}>
        <Avatar userId={id} size="lg" />
      </ChatContext.Provider>,
    );
    const el = m.container.querySelector(`[data-avatar-user="${id}"]`);
    expect(el?.textContent).toBe('AL');
    expect(el?.getAttribute('aria-hidden')).toBe('true');
    expect(el?.querySelector('img')).toBeNull();
    expect(avatarThumbUrl('a/../b')).toBe('/api/files/a%2F..%2Fb/thumbnail');
  });
});
