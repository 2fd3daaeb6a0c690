/**
 * SQL understood by PostgreSQL's own parser, not by patterns on text.
 *
 * <pre>
 *  "SELECT 1; DELETE FROM customers"
 *        │  SqlParser.parse (cache by exact text)
 *        ▼
 *  PgQuery ──FFM──▶ libpg_query pg_query_parse ──▶ JSON parse tree (escapes, quotes, comments resolved)
 *        │  StatementAnalyzer: one walk per statement
 *        ▼
 *  [SqlStatement(select, readOnly), SqlStatement(delete, tables=[customers], writes, hasWhere=false)]
 *        │  each judged on its own by policy (SqlCondition); any refusal refuses the query
 * </pre>
 *
 * Unparseable text is a {@link dev.portcullis.sql.SqlParseException}, and the gateway refuses it.
 * What the analysis cannot see through (an unknown function, DO bodies, an EXECUTE without its
 * PREPARE) is never read-only.
 */
package dev.portcullis.sql;
