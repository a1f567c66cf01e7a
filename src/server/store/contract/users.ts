import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../ids.js';
import { mkUser, nextAt, rejectsWith, sorted, uniq, type Ctx } from './fixtures.js';

export function usersContract(ctx: Ctx): void {
  describe('users', () => {
    // Must stay the suite's first test: it needs an empty store to observe "first user".
    it('makes exactly one of the first accounts owner, atomically, and later ones member', async (t) => {
      const s = ctx.store;
      if ((await s.users.count()) !== 0) {
        t.skip('store already has users (reused database): first-user rule not observable');
        return;
      }
      const names = [uniq('first'), uniq('first'), uniq('first')];
      const created = await Promise.all(
        names.map((username) =>
          s.users.create({
            id: newId(),
            username,
            email: `${username}@example.test`,
            displayName: username,
            passwordHash: 'h',
            createdAt: nextAt(),
          }),
        ),
      );
      assert.equal(created.filter((u) => u.role === 'owner').length, 1);
      assert.equal(created.filter((u) => u.role === 'member').length, 2);
    });

    it('defaults later accounts to member and honours an explicit role', async () => {
      const s = ctx.store;
      await mkUser(s); // the store is not empty from here on
      const username = uniq('late');
      const late = await s.users.create({
        id: newId(),
        username,
        email: `${username}@example.test`,
        displayName: 'Late',
        passwordHash: 'h',
        createdAt: nextAt(),
      });
      assert.equal(late.role, 'member');
      const admin = await mkUser(s, { role: 'admin' });
      assert.equal(admin.role, 'admin');
    });

    it('creates and reads back a user, as fresh copies', async () => {
      const s = ctx.store;
      const before = await s.users.count();
      const username = uniq('u');
      const input = {
        id: newId(),
        username,
        email: `${username}@example.test`,
        displayName: 'Zoë Q',
        passwordHash: 'argon-hash',
        role: 'guest' as const,
        createdAt: nextAt(),
      };
      const u = await s.users.create(input);
      assert.deepEqual(u, {
        id: input.id,
        username,
        email: input.email,
        displayName: 'Zoë Q',
        role: 'guest',
        status: null,
        avatarFileId: null,
        createdAt: input.createdAt,
        deactivatedAt: null,
      });
      assert.equal('passwordHash' in u, false, 'User must not carry the password hash');
      assert.equal(await s.users.count(), before + 1);
      const got = await s.users.get(u.id);
      assert.deepEqual(got, u);
      got!.displayName = 'mutated';
      assert.equal((await s.users.get(u.id))!.displayName, 'Zoë Q');
      assert.equal(await s.users.get(newId()), undefined);
    });

    it('rejects a taken username or email with USERNAME_TAKEN / EMAIL_TAKEN and writes nothing', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const count = await s.users.count();
      const id1 = newId();
      await rejectsWith(
        s.users.create({
          id: id1,
          username: a.username,
          email: `${uniq('x')}@example.test`,
          displayName: 'x',
          passwordHash: 'h',
          createdAt: nextAt(),
        }),
        'USERNAME_TAKEN',
      );
      const id2 = newId();
      await rejectsWith(
        s.users.create({ id: id2, username: uniq('x'), email: a.email, displayName: 'x', passwordHash: 'h', createdAt: nextAt() }),
        'EMAIL_TAKEN',
      );
      await rejectsWith(
        s.users.create({
          id: newId(),
          username: uniq('x'),
          email: a.email.toUpperCase(),
          displayName: 'x',
          passwordHash: 'h',
          createdAt: nextAt(),
        }),
        'EMAIL_TAKEN',
      );
      assert.equal(await s.users.get(id1), undefined);
      assert.equal(await s.users.get(id2), undefined);
      assert.equal(await s.users.count(), count);
    });

    it('getMany returns the known ids and skips unknown ones', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const b = await mkUser(s);
      const got = await s.users.getMany([a.id, newId(), b.id]);
      assert.deepEqual(sorted(got.map((u) => u.id)), sorted([a.id, b.id]));
      assert.deepEqual(await s.users.getMany([]), []);
    });

    it('getByLogin matches email, then username, case-insensitively, with the hash', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const byEmail = await s.users.getByLogin(a.email.toUpperCase());
      assert.equal(byEmail?.id, a.id);
      assert.equal(byEmail?.passwordHash, `hash-${a.username}`);
      const byName = await s.users.getByLogin(a.username.toUpperCase());
      assert.equal(byName?.id, a.id);
      assert.equal(byName?.passwordHash, `hash-${a.username}`);
      assert.equal(await s.users.getByLogin(uniq('nobody')), undefined);
      assert.equal(await s.users.getByLogin(''), undefined);
    });

    it('getByUsernames is case-insensitive and leaves unknown names out', async () => {
      const s = ctx.store;
      const a = await mkUser(s);
      const b = await mkUser(s);
      const got = await s.users.getByUsernames([a.username.toUpperCase(), uniq('ghost'), b.username]);
      assert.deepEqual(sorted(got.map((u) => u.id)), sorted([a.id, b.id]));
      assert.deepEqual(await s.users.getByUsernames([]), []);
    });

    it('search: prefix of username or display name, case-insensitive, ordered by username, paged by cursor', async () => {
      const s = ctx.store;
      const p = uniq('s');
      const mk = (username: string, displayName: string) =>
        s.users.create({ id: newId(), username, email: `${username}@example.test`, displayName, passwordHash: 'h', createdAt: nextAt() });
      const c = await mk(`${p}c`, 'Carol');
      const a = await mk(`${p}a`, 'Alice');
      const b = await mk(`${p}b`, 'Bob');
      const byDisplay = await mk(uniq('z'), `${p.toUpperCase()} Person`);
      await mk(uniq('y'), `Not ${p}`); // the prefix in the middle of a display name does not match
      const all = await s.users.search(p, 50);
      assert.deepEqual(
        all.map((u) => u.id),
        [a.id, b.id, c.id, byDisplay.id],
      );
      assert.deepEqual(
        (await s.users.search(p.toUpperCase(), 50)).map((u) => u.id),
        [a.id, b.id, c.id, byDisplay.id],
      );
      const page1 = await s.users.search(p, 2);
      assert.deepEqual(
        page1.map((u) => u.id),
        [a.id, b.id],
      );
      const page2 = await s.users.search(p, 2, page1[1].username);
      assert.deepEqual(
        page2.map((u) => u.id),
        [c.id, byDisplay.id],
      );
      assert.deepEqual(await s.users.search(p, 2, byDisplay.username), []);
      // Case folding is not limited to ASCII.
      const accented = await mk(uniq('x'), `Év${p.toUpperCase()} Ünal`);
      assert.deepEqual(
        (await s.users.search(`év${p}`, 50)).map((u) => u.id),
        [accented.id],
      );
      assert.deepEqual(
        (await s.users.search(`ÉV${p.toUpperCase()} Ü`, 50)).map((u) => u.id),
        [accented.id],
      );
      // LIKE wildcards in the input are literal characters.
      assert.deepEqual(await s.users.search(`${p}_`, 50), []);
      assert.deepEqual(await s.users.search(`${p}%`, 50), []);
    });

    it('update applies only the given fields and returns undefined for a missing user', async () => {
      const s = ctx.store;
      const u = await mkUser(s);
      const v1 = await s.users.update(u.id, { displayName: 'New Name', status: 'in a meeting', avatarFileId: 'f1', role: 'moderator' });
      assert.deepEqual(v1, { ...u, displayName: 'New Name', status: 'in a meeting', avatarFileId: 'f1', role: 'moderator' });
      const v2 = await s.users.update(u.id, { status: null });
      assert.deepEqual(v2, { ...v1, status: null });
      const v3 = await s.users.update(u.id, {});
      assert.deepEqual(v3, v2);
      assert.deepEqual(await s.users.get(u.id), v2);
      assert.equal(await s.users.update(newId(), { displayName: 'x' }), undefined);
    });

    it("isAvatar: true only while some user's avatarFileId names the file", async () => {
      const s = ctx.store;
      const u = await mkUser(s);
      const fileId = newId();
      assert.equal(await s.users.isAvatar(fileId), false);
      await s.users.update(u.id, { avatarFileId: fileId });
      assert.equal(await s.users.isAvatar(fileId), true);
      await s.users.update(u.id, { avatarFileId: newId() });
      assert.equal(await s.users.isAvatar(fileId), false, 'a replaced avatar');
      await s.users.update(u.id, { avatarFileId: null });
      assert.equal(await s.users.isAvatar(fileId), false);
    });

    it('setDeactivated sets and clears deactivatedAt, changes nothing else, undefined for a missing user', async () => {
      const s = ctx.store;
      const u = await mkUser(s);
      const when = nextAt();
      assert.deepEqual(await s.users.setDeactivated(u.id, when), { ...u, deactivatedAt: when });
      assert.deepEqual(await s.users.get(u.id), { ...u, deactivatedAt: when });
      assert.equal((await s.users.getByLogin(u.username))?.deactivatedAt, when);
      assert.deepEqual(await s.users.setDeactivated(u.id, null), u);
      assert.equal(await s.users.setDeactivated(newId(), when), undefined);
    });

    it('onlyIfFirst refuses with INVITE_REQUIRED once any user exists, and writes nothing', async () => {
      const s = ctx.store;
      await mkUser(s);
      const count = await s.users.count();
      const username = uniq('inv');
      const id = newId();
      await rejectsWith(
        s.users.create({
          id,
          username,
          email: `${username}@example.test`,
          displayName: 'x',
          passwordHash: 'h',
          createdAt: nextAt(),
          onlyIfFirst: true,
        }),
        'INVITE_REQUIRED',
      );
      assert.equal(await s.users.get(id), undefined);
      assert.equal(await s.users.count(), count);
    });
  });
}
