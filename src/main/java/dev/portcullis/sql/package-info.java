/**
 * SQL understood by PostgreSQL's own parser, not by patterns on text.
 *
 * <pre>
 *  "SELECT 1; DELETE FROM customers"
 *        │  SqlParser.parse: cached by exact text, or by StatementShape (pg_query_scan, the constants
 *        │  taken out) when the tree proves no constant can change the analysis (WHERE id = 42 and = 7)
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
 * The parser reads text as UTF-8 with standard_conforming_strings on; a statement that would make the
 * server read it otherwise has the effect {@code CHANGES_SQL_READING}, which the PostgreSQL adapter
 * refuses whatever the policy says ({@link dev.portcullis.sql.SqlParser#readsSqlAsTheParser}).
 *
 * Unparseable text is a {@link dev.portcullis.sql.SqlParseException}, and the gateway refuses it.
 * What the analysis cannot see through (an unknown function, DO bodies, an EXECUTE without its
 * PREPARE) is never read-only.
 */
package dev.portcullis.sql;
