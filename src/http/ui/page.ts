// The operator dashboard (issue 26): one self-contained page, a string so the single executable serves it without files.
// Every URL is relative so it works behind m3u-editor's prefix-stripping nginx and under ROOT_PATH.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>m3u-proxy</title>
<style>
body{font:14px system-ui,sans-serif;margin:0;padding:12px;background:#f6f7f9;color:#222}
h1{font-size:18px;margin:0 0 8px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #ddd;padding:6px;text-align:left;word-break:break-all}
button{margin:2px}
@media (max-width:600px){th:nth-child(3),td:nth-child(3){display:none}}
</style></head><body>
<h1>m3u-proxy streams</h1>
<p id="status">loading…</p>
<table><thead><tr><th>Stream</th><th>Clients</th><th>Failover</th><th>Actions</th></tr></thead><tbody id="rows"></tbody></table>
<script>
(function(){
  var token = new URLSearchParams(location.search).get('api_token');
  function url(p){ return token ? p + (p.indexOf('?') < 0 ? '?' : '&') + 'api_token=' + encodeURIComponent(token) : p; }
  function cell(tr, text){ var td = document.createElement('td'); td.textContent = String(text); tr.appendChild(td); return td; }
  function act(td, label, method, path){
    var b = document.createElement('button'); b.textContent = label;
    b.onclick = function(){ if (confirm(label + '?')) fetch(url(path), {method: method}).then(load); };
    td.appendChild(b);
  }
  function load(){
    fetch(url('streams')).then(function(r){ return r.json(); }).then(function(list){
      var rows = document.getElementById('rows'); rows.textContent = '';
      (Array.isArray(list) ? list : list.streams || []).forEach(function(s){
        var tr = document.createElement('tr');
        cell(tr, s.stream_id || s.id); cell(tr, s.client_count != null ? s.client_count : '');
        cell(tr, (s.current_failover_index != null ? s.current_failover_index : '') + ' / ' + (s.failover_count != null ? s.failover_count : ''));
        var td = cell(tr, ''); var id = encodeURIComponent(s.stream_id || s.id);
        act(td, 'Fail over', 'POST', 'streams/' + id + '/failover');
        act(td, 'Delete', 'DELETE', 'streams/' + id);
        rows.appendChild(tr);
      });
      document.getElementById('status').textContent = 'updated ' + new Date().toLocaleTimeString();
    }).catch(function(e){ document.getElementById('status').textContent = 'error: ' + e; });
  }
  load(); setInterval(load, 2000);
})();
</script></body></html>
`;
