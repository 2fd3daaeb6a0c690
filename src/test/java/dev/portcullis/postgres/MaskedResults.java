package dev.portcullis.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * The lineage acceptance tests' one way to compare what the gateway returns with what a direct
 * connection returns for the same statement, cell by cell, and to state what masking must have done.
 *
 * <p>Each output column is expected to be one of: {@code =} exact (as direct), {@code m} masked (derived
 * from {@code email} or {@code phone}: {@code [masked]} for text-like types, {@code "[masked]"} for json,
 * NULL otherwise), or {@code s} scanned (a column the content detectors rewrite, such as {@code notes} or
 * {@code card}; only checked for leaks).
 */
final class MaskedResults {
    static final String MASKED = "[masked]";

    private MaskedResults() {}

    /** A result read as strings, as {@link ResultSet#getString} gives them. */
    record Grid(List<String> names, List<String> types, List<List<String>> rows) {
        String cell(int row, int column) {
            return rows.get(row).get(column);
        }
    }

    static Grid query(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return read(rs);
        }
    }

    static Grid read(ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        List<String> names = new ArrayList<>();
        List<String> types = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            names.add(md.getColumnLabel(i));
            types.add(md.getColumnTypeName(i));
        }
        List<List<String>> rows = new ArrayList<>();
        while (rs.next()) {
            List<String> row = new ArrayList<>(n);
            for (int i = 1; i <= n; i++) row.add(rs.getString(i));
            rows.add(row);
        }
        return new Grid(names, types, rows);
    }

    /** What a masked value of this type looks like to the client: a string, a JSON string, or NULL. */
    static String maskOf(String typeName) {
        return switch (typeName) {
            case "text", "varchar", "bpchar", "name", "char", "unknown", "xml", "citext" -> MASKED;
            case "json", "jsonb" -> "\"" + MASKED + "\"";
            default -> null;
        };
    }

    /**
     * The problems with the gateway's result, given the direct one and the expectation per column
     * ({@code kinds}: one of {@code = m s} per column); empty when all is as specified.
     */
    static List<String> problems(Grid direct, Grid gateway, String kinds, Secrets secrets) {
        List<String> problems = new ArrayList<>();
        if (kinds.length() != direct.names().size()) {
            problems.add("the test expects " + kinds.length() + " columns (" + kinds + "), the direct result has "
                    + direct.names());
            return problems;
        }
        if (!gateway.names().equals(direct.names())) {
            problems.add("columns: direct " + direct.names() + ", gateway " + gateway.names());
        }
        if (gateway.rows().size() != direct.rows().size()) {
            problems.add("rows: direct " + direct.rows().size() + ", gateway " + gateway.rows().size());
        }
        int rows = Math.min(direct.rows().size(), gateway.rows().size());
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < kinds.length() && c < gateway.names().size(); c++) {
                String d = direct.cell(r, c);
                String g = gateway.cell(r, c);
                String where = "row " + (r + 1) + ", column " + (c + 1) + " " + direct.names().get(c) + " ("
                        + direct.types().get(c) + "): ";
                String leak = secrets.leakIn(g);
                if (leak != null) {
                    problems.add(where + "gateway value " + quote(g) + " contains the real value " + quote(leak));
                    continue;
                }
                switch (kinds.charAt(c)) {
                    case '=' -> {
                        if (!java.util.Objects.equals(d, g)) {
                            problems.add(where + "not derived from a masked column, so exact: direct " + quote(d)
                                    + ", gateway " + quote(g));
                        }
                    }
                    case 'm' -> {
                        String mask = maskOf(direct.types().get(c));
                        boolean ok = d == null ? g == null || g.equals(mask) : java.util.Objects.equals(g, mask);
                        if (!ok) {
                            problems.add(where + "derived from a masked column: direct " + quote(d) + ", gateway "
                                    + quote(g) + ", expected " + quote(mask));
                        }
                    }
                    case 's' -> { } // rewritten by content detectors; the leak check above is the assertion
                    default -> throw new IllegalArgumentException("column kind '" + kinds.charAt(c) + "' in " + kinds);
                }
            }
        }
        return problems;
    }

    /** Fails, listing the query and every wrong cell (the first 12), unless the gateway's result is as specified. */
    static void assertMasked(String sql, Grid direct, Grid gateway, String kinds, Secrets secrets) {
        List<String> problems = problems(direct, gateway, kinds, secrets);
        if (!problems.isEmpty()) {
            fail("through the gateway: " + sql + "\n  " + String.join("\n  ", problems.subList(0, Math.min(12, problems.size())))
                    + (problems.size() > 12 ? "\n  ... and " + (problems.size() - 12) + " more" : ""));
        }
    }

    /** The statement, run through the gateway, is refused with 42501 and a message naming all of {@code mentions}. */
    static void assertRefused(String sql, Callable<?> run, String... mentions) {
        Object result;
        try {
            result = run.call();
        } catch (SQLException e) {
            assertThat(e.getSQLState()).as("SQLSTATE of the refusal of: %s (message: %s)", sql, e.getMessage())
                    .isEqualTo("42501");
            assertThat(e.getMessage()).as("refusal of: %s", sql).contains(mentions);
            return;
        } catch (Exception e) {
            throw new AssertionError("refusal of: " + sql + " expected as SQLException 42501, got " + e, e);
        }
        fail("through the gateway: " + sql + "\n  expected a refusal with SQLSTATE 42501 naming " + List.of(mentions)
                + ", but it ran" + (result instanceof Grid g ? " and returned " + g.rows().size() + " rows, first: "
                + (g.rows().isEmpty() ? "-" : g.rows().getFirst()) : ""));
    }

    /** The real emails and phones in the database (customers and contacts): no gateway cell may contain one. */
    record Secrets(Set<String> values) {
        static Secrets read(Connection admin) throws SQLException {
            Set<String> values = new TreeSet<>();
            for (String sql : List.of("SELECT email FROM customers UNION SELECT phone FROM customers",
                    "SELECT email FROM contacts")) {
                try (Statement st = admin.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                    while (rs.next()) if (rs.getString(1) != null) values.add(rs.getString(1));
                }
            }
            return new Secrets(Set.copyOf(values));
        }

        /** The first real value inside {@code text}, or null. */
        String leakIn(String text) {
            if (text == null) return null;
            for (String v : values) if (text.contains(v)) return v;
            return null;
        }
    }

    /**
     * The tables and views the lineage cases read besides {@code customers} and {@code orders}:
     * {@code contacts(id, email)} sharing some emails with customers, and {@code v_contacts}, a view
     * deriving {@code mail} from {@code email}.
     */
    static void createLineageTables(PostgresGatewayFixture f) throws Exception {
        try (Connection c = f.admin(); Statement st = c.createStatement()) {
            st.execute("""
                    CREATE TABLE contacts (id int PRIMARY KEY, email text);
                    INSERT INTO contacts VALUES (1, 'user1@example.com'), (2, 'user2@example.com'),
                                                (3, 'user3@example.com'), (30, 'someone@example.net');
                    CREATE VIEW v_contacts AS SELECT id, lower(email) AS mail FROM customers;
                    GRANT SELECT ON contacts, v_contacts TO gateway;
                    """);
        }
    }

    private static String quote(String s) {
        return s == null ? "NULL" : "'" + s + "'";
    }
}
