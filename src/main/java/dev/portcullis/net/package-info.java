/**
 * What the protocol adapters share about event loops: {@link dev.portcullis.net.LoopInbox}, the bytes a loop
 * received for a virtual thread that reads them as a stream (an HTTP response being masked, either side of a
 * PostgreSQL session).
 */
package dev.portcullis.net;
