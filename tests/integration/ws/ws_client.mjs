// nats.ws in Node against the server's WebSocket port (argv[2]: a port, or a ws:// or wss://
// URL; NODE_EXTRA_CA_CERTS names the test CA for wss): serves "ws.echo", asks the TCP side's
// "tcp.svc", publishes "ws.out" and waits for one "ws.in". Prints one line per step for
// websocket_test.cpp, first the extensions the server agreed to (the `ws` package offers
// permessage-deflate); exits non-zero on any failure.
import WebSocket from "ws";
class LoggingWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    this.on("open", () => console.log("EXTENSIONS " + (this.extensions || "none")));
  }
}
globalThis.WebSocket = LoggingWebSocket;
const { connect, StringCodec } = await import("nats.ws");

const fail = (why) => {
  console.log("FAIL " + why);
  process.exit(1);
};
setTimeout(() => fail("timeout"), 10000).unref();

const sc = StringCodec();
const target = process.argv[2];
const server = target.includes("://") ? target : `ws://127.0.0.1:${target}`;
const nc = await connect({ servers: server, reconnect: false });
console.log("CONNECTED " + nc.info.server_id);

const echo = nc.subscribe("ws.echo");
(async () => {
  for await (const m of echo) m.respond(sc.encode("echo:" + sc.decode(m.data)));
})();
const inbox = nc.subscribe("ws.in", { max: 1 });
await nc.flush();
console.log("READY");

const reply = await nc.request("tcp.svc", sc.encode("ping"), { timeout: 5000 });
console.log("REPLY " + sc.decode(reply.data));

// A payload larger than one 16-bit frame length, so that both sides use 64-bit lengths.
nc.publish("ws.out", sc.encode("x".repeat(70000)));
nc.publish("ws.out", sc.encode("hello from ws"));
await nc.flush();
console.log("PUBLISHED");

for await (const m of inbox) console.log("GOT " + sc.decode(m.data));
await nc.close();
console.log("DONE");
