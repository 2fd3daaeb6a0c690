/**
 * The PostgreSQL wire protocol (v3.0), in the layers the adapter stands on.
 *
 * <ol>
 *   <li>Framing: {@link dev.portcullis.postgres.PgFrameReader} cuts a stream into startup packets
 *       and typed messages, with a state enum and size limits checked before allocation.</li>
 *   <li>Messages: {@link dev.portcullis.postgres.FrontendMessage} (client → server) and
 *       {@link dev.portcullis.postgres.BackendMessage} (server → client), two sealed hierarchies of
 *       records with strict decoders; {@link dev.portcullis.postgres.RawMessage} for pass-through.</li>
 *   <li>Session state machine: the adapter's, built on this package.</li>
 *   <li>Encoder: {@link dev.portcullis.postgres.PgMessageWriter}, both directions, one buffer.</li>
 * </ol>
 * A session is a few classes with one job each: {@code PgStartup} (SSL negotiation, the token as
 * password, the upstream login), {@code PgSession} (the client thread: each Query or extended-protocol
 * batch judged before anything of it is forwarded), {@code PgRelay} (the server thread: answers relayed
 * in order, masked, outcomes recorded), {@code SessionStatements} (what Parse, Bind and PREPARE left
 * behind), {@code SessionJudge} (its statements before the gate, and what is recorded of them), {@code PgRefusals} (a refused unit fails in place at the server, so transactions abort as
 * on the server's own error) and {@code PgApprovalHold} (the gate's approval flow in PostgreSQL's
 * words: a NOTICE while held, an ErrorResponse when not released). {@code PostgresProtocol} is the
 * module that registers all this with the gateway. What the session answers in order is a {@code ResponseUnit} (up
 * to one ReadyForQuery), each result is relayed through a {@code ResultCapture} (its masker and what the
 * recording keeps), and a statement allowed with masking passes a {@code MaskCheck} first: its lineage
 * says which result columns are masked whole, or why it is refused. {@code RowMasker} and
 * {@code CopyMasker} apply that to DataRow and CopyData; {@code ColumnCatalog} is the gateway's own
 * catalog connection (column origins, relations and views for lineage, result types).
 * {@link dev.portcullis.postgres.UpstreamConnection} logs in to the real server with the gateway's
 * credentials; {@link dev.portcullis.postgres.PgErrors} makes the refusals the gateway sends itself.
 *
 * <pre>
 *  agent (psql, JDBC)                 gateway                         PostgreSQL
 *    |-- SSLRequest ------------------->|                                  |
 *    |<-------------------- 'S' or 'N' -|                                  |
 *    |-- StartupMessage(user, db) ----->|                                  |
 *    |<------ AuthenticationCleartext --|   (the agent's token is its password)
 *    |-- PasswordMessage(token) ------->|  verify token, resolve target     |
 *    |                                  |-- StartupMessage(user, db) ----->|
 *    |                                  |<-- AuthenticationSASL / MD5 -----|
 *    |                                  |-- SASLInitialResponse ---------->|  SCRAM-SHA-256
 *    |                                  |<-- AuthenticationSASLContinue ---|
 *    |                                  |-- SASLResponse ----------------->|
 *    |                                  |<-- AuthenticationSASLFinal ------|  server proves itself
 *    |                                  |<-- AuthenticationOk, ParameterStatus*,
 *    |                                  |    BackendKeyData, ReadyForQuery |
 *    |<- AuthenticationOk, ParameterStatus*, BackendKeyData(gateway's key), ReadyForQuery
 *    |                                  |                                  |
 *    |-- Query(sql) ------------------->|  decide: Allow -> forward        |
 *    |                                  |-- Query(sql) ------------------->|
 *    |<---------------------------------|<-- RowDescription, DataRow*,     |
 *    |   (DataRow forwarded raw or masked)   CommandComplete, ReadyForQuery|
 *    |-- Query(sql) ------------------->|  decide: Deny                    |
 *    |<-- ErrorResponse(42501), ReadyForQuery                              |
 *    |                                  |                                  |
 *    |-- Parse(s, sql, oids) ---------->|  decide on the SQL text          |
 *    |-- Bind(portal, s, params) ------>|  (and on the parameters)         |
 *    |-- Describe(P, portal) ---------->|                                  |
 *    |-- Execute(portal, maxRows) ----->|                                  |
 *    |-- Sync ------------------------->|-- Parse, Bind, Describe, Execute, Sync -->|
 *    |<-- ParseComplete, BindComplete, RowDescription, DataRow*, -----------------|
 *    |    CommandComplete (or PortalSuspended), ReadyForQuery                      |
 *    |                                  |                                  |
 *    |-- Query(COPY t FROM STDIN) ----->|-- Query ------------------------>|
 *    |<-- CopyInResponse ---------------|<---------------------------------|
 *    |-- CopyData*, CopyDone ---------->|-- CopyData*, CopyDone ---------->|
 *    |<-- CommandComplete, ReadyForQuery|<---------------------------------|
 *    |-- Query(COPY t TO STDOUT) ------>|-- Query ------------------------>|
 *    |<-- CopyOutResponse, CopyData*, CopyDone, CommandComplete, ReadyForQuery (masked)
 *    |                                  |                                  |
 *    |-- Terminate -------------------->|-- Terminate -------------------->|
 *
 *  cancel (new connection):  CancelRequest(gateway pid, key) -> map -> sendCancel(upstream pid, key)
 * </pre>
 */
package dev.portcullis.postgres;
