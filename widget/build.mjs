// Bundle the widget with esbuild: one minified IIFE script (socket.io-client included) in dist/,
// plus its gzipped size, which must stay within the budget.
import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET = 60 * 1024;
const out = "dist/tandem-widget.js";
mkdirSync("dist", { recursive: true });
await build({
  entryPoints: ["src/index.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "eof",
  outfile: out,
  logLevel: "warning",
});
const code = readFileSync(out);
const gzipped = gzipSync(code, { level: 9 }).length;
writeFileSync("dist/size.json", JSON.stringify({ bytes: code.length, gzipped_bytes: gzipped, budget_bytes: BUDGET }) + "\n");
console.log(`widget: ${out} ${code.length} bytes, ${gzipped} bytes gzipped (budget ${BUDGET})`);
if (gzipped > BUDGET) {
  console.error("widget: over the size budget");
  process.exit(1);
}
