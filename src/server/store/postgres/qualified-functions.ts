// Migration 0007_qualified_search_functions: the search functions' bodies name the functions they
// call by schema (public.nchat_search_fold, public.nchat_search_week), as they already did for
// public.unaccent. Why: pg_dump writes `SET search_path = ''` at the top of every dump, so during
// pg_restore an unqualified call inside a function body does not resolve; loading the messages
// table (whose generated search_tsv column calls nchat_search_doc) then failed with "function
// nchat_search_fold(text) does not exist" and the restore stopped (test/ops/pg-dump.test.ts).
// Same signatures and results: the generated column and the GIN index stay as they are (no
// rewrite). (The bodies stayed plain SQL, which the planner never inlined: unaccent() is STABLE;
// 0014 moved them to PL/pgSQL, search-functions-migration.ts.)
export const qualifiedSearchFunctionsPostgres = `
CREATE OR REPLACE FUNCTION public.nchat_search_fold(t text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT pg_catalog.lower(public.unaccent('public.unaccent'::regdictionary, t)) $$;
CREATE OR REPLACE FUNCTION public.nchat_search_doc(t text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT pg_catalog.to_tsvector('pg_catalog.simple'::regconfig, public.nchat_search_fold(t)) $$;
CREATE OR REPLACE FUNCTION public.nchat_search_doc(t text, ch text, au text, at timestamptz) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT pg_catalog.to_tsvector('pg_catalog.simple', public.nchat_search_fold(coalesce(t, '')))
               || pg_catalog.array_to_tsvector(ARRAY['#' || ch, '@' || au, '~' || public.nchat_search_week(at)]) $$;
`;
