// Migration 0013_token_rotate (issue 14): POST /api/auth/refresh in ONE round trip.
//
// TokenStore.rotate was a transaction of seven statements (BEGIN, find the family, the family's
// advisory lock, read the token again under the lock, mark it used, insert the successor,
// COMMIT). In the API scenario on PostgreSQL (2 nodes, 100 VUs) a refresh took 3× the time of a
// one-statement request (p50 374 ms against ~112 ms, 2026-12-02): each round trip waits its turn
// on a busy node. nchat_token_rotate does the same steps in one call. The guarantee is unchanged:
// in PL/pgSQL each statement takes its own snapshot (READ COMMITTED), so the read after the lock
// sees every rotation and revocation of the family committed before it (tokens.ts, FAMILY_LOCK:
// 0x6e636802 = 1852008450). The lock is released when the caller's implicit transaction ends.
// Returns one row: the outcome, and the presented token as it was before the call (no row
// fields for 'unknown'). Names are schema-qualified (a pg_restore runs with an empty search_path).
export const tokenRotateMigrationPostgres = `
CREATE FUNCTION public.nchat_token_rotate(
  p_hash text, p_succ_id text, p_succ_hash text, p_succ_expires timestamptz, p_succ_created timestamptz,
  p_at timestamptz
) RETURNS TABLE (
  outcome text, id text, user_id text, family_id text, token_hash text, expires_at timestamptz,
  used_at timestamptz, revoked_at timestamptz, created_at timestamptz
) LANGUAGE plpgsql AS $$
DECLARE
  fam text;
  t public.refresh_tokens%ROWTYPE;
BEGIN
  SELECT r.family_id INTO fam FROM public.refresh_tokens r WHERE r.token_hash = p_hash;
  IF NOT FOUND THEN
    outcome := 'unknown';
    RETURN NEXT;
    RETURN;
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(1852008450, pg_catalog.hashtext(fam));
  SELECT r.* INTO t FROM public.refresh_tokens r WHERE r.token_hash = p_hash;
  IF t.revoked_at IS NOT NULL THEN
    outcome := 'revoked';
  ELSIF t.expires_at <= p_at THEN
    outcome := 'expired';
  ELSIF t.used_at IS NOT NULL THEN
    UPDATE public.refresh_tokens r SET revoked_at = p_at WHERE r.family_id = t.family_id AND r.revoked_at IS NULL;
    outcome := 'reused';
  ELSE
    UPDATE public.refresh_tokens r SET used_at = p_at WHERE r.id = t.id;
    INSERT INTO public.refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at)
    VALUES (p_succ_id, t.user_id, t.family_id, p_succ_hash, p_succ_expires, p_succ_created);
    outcome := 'rotated';
  END IF;
  id := t.id; user_id := t.user_id; family_id := t.family_id; token_hash := t.token_hash;
  expires_at := t.expires_at; used_at := t.used_at; revoked_at := t.revoked_at; created_at := t.created_at;
  RETURN NEXT;
END
$$;
`;
