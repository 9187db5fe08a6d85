// What a compressed WebSocket costs workerd: N sockets, each offered permessage-deflate by its
// client (as browsers do) and sent 20 broadcast-sized frames, in workerd itself (not Miniflare,
// which negotiates compression whatever the Worker's flags), with wrangler.toml's compatibility
// date and flags, then without `no_web_socket_compression`. Prints workerd's resident memory.
//   node scripts/bench/websocket-compression.mjs [--sockets 1000]
import { execFileSync } from "node:child_process";
import { FRAMES, compatibilityFlags, openOfferingDeflate, startSocketWorker } from "../../tests/support/raw_workerd.mjs";

const sockets = Number(process.argv[process.argv.indexOf("--sockets") + 1] || 1000) || 1000;
const rssMiB = (pid) => Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)])) / 1024;

async function measure(flags) {
  const { url, pid, stop } = await startSocketWorker(flags);
  try {
    const idle = rssMiB(pid);
    const opened = [];
    let received = 0;
    for (let i = 0; i < sockets; i++) opened.push(await openOfferingDeflate(url, () => received++));
    while (received < FRAMES * sockets) await new Promise((r) => setTimeout(r, 10));
    const holding = rssMiB(pid);
    for (const { ws } of opened) ws.terminate();
    return { flags: flags.join(", ") || "(none)", extensions: opened[0].extensions ?? "none", idle, holding };
  } finally {
    stop();
  }
}

const rows = [
  await measure(compatibilityFlags),
  await measure(compatibilityFlags.filter((f) => f !== "no_web_socket_compression")),
];
console.log(`| compatibility flags | negotiated | workerd RSS idle, MiB | with ${sockets} sockets, MiB | per socket, KiB |`);
console.log("| --- | --- | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(`| ${r.flags} | ${r.extensions} | ${r.idle.toFixed(1)} | ${r.holding.toFixed(1)} | ${(((r.holding - r.idle) * 1024) / sockets).toFixed(0)} |`);
}
