// Migration 0014_search_functions_plpgsql (issue 14): the search functions in PL/pgSQL, same
// signatures and results, so the generated column messages.search_tsv and its GIN index stay as
// they are (no rewrite).
//
// Why: they were SQL functions, which the planner inlines only when their body is as immutable
// as they are declared; unaccent() and extract(epoch FROM timestamptz) are STABLE, so they were
// never inlined (0007's comment says otherwise; it was wrong). A SQL function that is not
// inlined is parsed, analysed and planned again in every statement that calls it: each send
// statement computing search_tsv planned three bodies. `perf record -a -g`, 30 s of the quick
// messages scenario on PostgreSQL + Redis, 2 nodes (2026-12-02): fmgr_sql under
// ExecComputeStoredGenerated 13.4% of PostgreSQL's samples, of which the parse/analyse/plan of
// the bodies ~10% and the tsvector work itself ~1%. PL/pgSQL keeps each body's plan for the
// session and evaluates `RETURN <expression>` on its fast path.
//
// Names stay schema-qualified (a pg_restore runs with an empty search_path; 0007). Built-ins
// (lower, to_tsvector, extract, floor) resolve in pg_catalog, which is always searched.
// The week keeps `extract(epoch FROM at)` (numeric) exactly: a double division could round a
// time just before a week boundary into the next week.
export const searchFunctionsPlpgsqlMigrationPostgres = `
CREATE OR REPLACE FUNCTION public.nchat_search_fold(t text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ BEGIN RETURN pg_catalog.lower(public.unaccent('public.unaccent'::regdictionary, t)); END $$;
CREATE OR REPLACE FUNCTION public.nchat_search_week(at timestamptz) RETURNS bigint
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ BEGIN RETURN pg_catalog.floor(extract(epoch FROM at) / 604800)::bigint; END $$;
CREATE OR REPLACE FUNCTION public.nchat_search_doc(t text) RETURNS tsvector
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ BEGIN RETURN pg_catalog.to_tsvector('pg_catalog.simple'::regconfig, public.nchat_search_fold(t)); END $$;
CREATE OR REPLACE FUNCTION public.nchat_search_doc(t text, ch text, au text, at timestamptz) RETURNS tsvector
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $$ BEGIN
    RETURN pg_catalog.to_tsvector('pg_catalog.simple'::regconfig, public.nchat_search_fold(coalesce(t, '')))
        || pg_catalog.array_to_tsvector(ARRAY['#' || ch, '@' || au, '~' || public.nchat_search_week(at)]);
  END $$;
`;
