// The operator dashboard (issue 26): one self-contained page, a string so the single executable serves it without files.
// Streams first, then a section per kind of FFmpeg process (broadcasts). Every URL is relative so it works behind m3u-editor's prefix-stripping nginx and under ROOT_PATH.
import { DASHBOARD_SCRIPT } from './page-script.ts';

const STYLE = `
*{box-sizing:border-box}
body{font:14px system-ui,sans-serif;margin:0;padding:12px;background:#f4f5f7;color:#1d2430}
header{display:flex;align-items:center;gap:8px;flex-wrap:wrap;margin-bottom:10px}
h1{font-size:18px;margin:0}
h2{font-size:15px;margin:0;word-break:break-all}
h3{font-size:14px;margin:0;word-break:break-all}
.pill{font-size:12px;padding:2px 8px;border-radius:10px;background:#dde1e7}
.pill.ok{background:#cdeccf;color:#145a1c}.pill.bad{background:#f6d0cd;color:#7a1810}
.muted{color:#667085;font-size:12px}
.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:10px}
.kpis{display:flex;flex-wrap:wrap;gap:6px 18px;margin-bottom:6px}
.kpis b{font-size:16px}
#streams,.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,340px),1fr));gap:10px;margin-top:10px}
.stream.active{border-left:4px solid #2f7d32}
.head{display:flex;justify-content:space-between;gap:8px;align-items:baseline}
.type{font-size:12px;color:#667085;white-space:nowrap}
.rate-row{display:flex;align-items:center;gap:8px;margin:6px 0}
.rate{font-variant-numeric:tabular-nums;min-width:90px;font-weight:600}
.graph{flex:1;width:100%;height:36px;background:#f7f8fa;border-radius:4px;display:block}
.graph polyline{fill:none;stroke:#2563eb;stroke-width:1.5;vector-effect:non-scaling-stroke}
#t-graph{height:48px}
dl{display:grid;grid-template-columns:auto 1fr;gap:2px 10px;margin:6px 0}
dt{color:#667085}dd{margin:0;word-break:break-word}
.actions{display:flex;gap:6px;flex-wrap:wrap}
button{font:inherit;min-height:34px;padding:4px 12px;border:1px solid #b9c0cb;border-radius:6px;background:#fff;cursor:pointer}
button:disabled{opacity:.45;cursor:default}
button.danger{border-color:#d9534f;color:#a4221c}
.clients{list-style:none;margin:8px 0 0;padding:0}
.clients li{display:flex;justify-content:space-between;align-items:center;gap:8px;border-top:1px solid #eef0f3;padding:4px 0}
.who{font-size:12px;word-break:break-all}
.procs{margin-top:12px}.procs h2{margin-bottom:6px}
.proc.running{border-left:4px solid #2f7d32}.proc.failed{border-left:4px solid #d9534f}
dd.url{font-size:12px;overflow-wrap:anywhere;word-break:break-all}
#msg{min-height:1.2em;margin:8px 0 0}
@media (max-width:480px){body{padding:8px}.rate{min-width:70px}}
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>m3u-proxy dashboard</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style></head><body>
<header><h1>m3u-proxy streams</h1><span id="conn" class="pill">connecting&hellip;</span><span class="muted">updated <span id="updated">never</span></span></header>
<section class="card" aria-label="totals">
<div class="kpis"><span><b id="t-streams">0</b> streams</span><span><b id="t-clients">0</b> viewers</span>
<span><b id="t-upstream">0</b> provider connections</span><span><b id="t-rate">0 bit/s</b> in total</span></div>
<svg id="t-graph" class="graph" viewBox="0 0 120 30" preserveAspectRatio="none" role="img"><polyline/></svg>
</section>
<p id="msg" role="status"></p>
<p id="empty" class="muted" hidden>No streams registered.</p>
<main id="streams"></main>
<div id="processes"></div>
<script>${DASHBOARD_SCRIPT}</script></body></html>
`;
