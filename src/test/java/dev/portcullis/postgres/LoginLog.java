package dev.portcullis.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * A server-side record of every login (a PostgreSQL 17+ login event trigger), so a test can prove
 * that a refused client never got the gateway to log in upstream for it.
 */
final class LoginLog {
    private LoginLog() {
    }

    static void install(Statement admin) throws Exception {
        admin.execute("""
                CREATE TABLE login_log (at timestamptz DEFAULT clock_timestamp(), usename name, application text);
                CREATE FUNCTION log_login() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER
                  SET search_path = public AS $$
                BEGIN
                  INSERT INTO public.login_log (usename, application)
                  VALUES (session_user, current_setting('application_name', true));
                END $$;
                CREATE EVENT TRIGGER log_logins ON login EXECUTE FUNCTION log_login();
                """);
    }

    /** Logins of the gateway's upstream role for agents (its own catalog connection aside). */
    static long gatewayLogins(PostgresGatewayFixture f) throws Exception {
        try (Connection c = f.admin(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM login_log WHERE usename = '"
                     + PostgresGatewayFixture.DB_USER + "' AND application IS DISTINCT FROM 'portcullis-catalog'")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
