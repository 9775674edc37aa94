// The widget's socket.io client (widget/node_modules/socket.io-client) against a Rasa server:
// connect, ask for a conversation, send a message, wait for the acknowledgement and a reply.
// Usage: node sio_check.cjs <widget dir> <rasa url> <websocket|polling>; prints one JSON line.
const path = require("path");
const { io } = require(path.join(process.argv[2], "node_modules", "socket.io-client"));

const [url, transport] = [process.argv[3], process.argv[4]];
const socket = io(url, { transports: [transport], upgrade: false, reconnection: false });
const report = { transport: null, protocol: null, ack: null, reply: null, session_token: null };
const fail = (why) => { console.error(why); process.exit(1); };
setTimeout(() => fail("timed out: " + JSON.stringify(report)), 90000);

socket.on("connect_error", (err) => fail("connect_error: " + err.message));
socket.on("connect", () => {
  report.transport = socket.io.engine.transport.name;
  report.protocol = socket.io.engine.constructor.protocol;
  socket.emit("session_request", {});
});
socket.on("session_token", (data) => { report.session_token = data.token; });
socket.on("session_confirm", (sessionId) => {
  socket.timeout(60000).emit("user_uttered", { message: "/greet", session_id: sessionId }, (err, ack) => {
    if (err) fail("no acknowledgement");
    report.ack = ack;
    if (report.reply) finish();
  });
});
socket.on("bot_uttered", (msg) => {
  if (!report.reply) report.reply = msg;
  if (report.ack) finish();
});
function finish() {
  console.log(JSON.stringify(report));
  socket.close();
  process.exit(0);
}
