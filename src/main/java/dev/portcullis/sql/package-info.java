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
 * For a statement allowed with masking, {@link dev.portcullis.sql.Lineage} walks the same tree again:
 * <pre>
 *  "SELECT id, reverse(c.email) r FROM customers c WHERE c.phone LIKE '1%'"
 *        │  LineageWalker (statements, query levels) + LineageFrom (FROM, views via a RelationCatalog)
 *        │  + LineageExpressions (values, conditions, column uses), over LineageScope (names, scopes, *)
 *        ▼
 *  outputs [id ← {customers.id}, r ← {customers.email}]   uses [customers.phone: SEARCH (LIKE in WHERE)]
 *        │  MaskedLineage.maskedOutputs(lineage, plan: fields [email, phone], predicates: equality)
 *        ▼
 *  refused: phone is searched with LIKE        (with "= '1'" instead: mask output 1, r)
 * </pre>
 * What the walk does not cover is a {@link dev.portcullis.sql.LineageException}: masking cannot be
 * guaranteed, so the statement is refused.
 *
 * Unparseable text is a {@link dev.portcullis.sql.SqlParseException}, and the gateway refuses it.
 * What the analysis cannot see through (an unknown function, DO bodies, an EXECUTE without its
 * PREPARE) is never read-only.
 */
package dev.portcullis.sql;
