// Root&Route live view and replay: draws the floor plan, the robot and its sensors on a canvas.
// No libraries, no network beyond this server: it works offline. World frame: metres, x right,
// y up (REP-103 seen from above). The drawn state is on window.rootroute (tests read it).
"use strict";

const TEXT = {
  ko: {
    mode_live: "실시간", mode_replay: "다시 보기", speed: "속도", fastest: "최대",
    sim_time: "시뮬레이션 시간", progress: "과제 진행", play: "▶ 재생", pause: "⏸ 일시정지",
    legend_true: "로봇 실제 위치(참값)", legend_odom: "오도메트리(/odom) 위치",
    legend_scan: "라이다 스캔(/scan)", legend_trail: "지나온 경로", legend_keepout: "출입 금지 구역", legend_hot: "고온 구역 (초당 감점)",
    camera: "카메라", camera_off: "카메라 꺼짐: /camera/image_raw 토픽을 구독하는 노드가 없습니다.",
    topics: "학생 토픽 (Path, PoseArray, Marker)", no_topics: "아직 없습니다.",
    events: "사건 타임라인", findings: "채점 결과", no_events: "기록된 사건이 없습니다.",
    achieved: "실제 배속", paused: "일시정지됨", waiting: "시뮬레이터 연결 중…",
    start: "출발", at: "초",
  },
  en: {
    mode_live: "live", mode_replay: "replay", speed: "Speed", fastest: "fastest",
    sim_time: "Sim time", progress: "Task progress", play: "▶ Play", pause: "⏸ Pause",
    legend_true: "robot, true pose (ground truth)", legend_odom: "robot, /odom pose",
    legend_scan: "lidar scan (/scan)", legend_trail: "path driven", legend_keepout: "keep-out zone", legend_hot: "hot zone (penalty per second)",
    camera: "Camera", camera_off: "Camera off: no node subscribes to /camera/image_raw.",
    topics: "Student topics (Path, PoseArray, Marker)", no_topics: "None yet.",
    events: "Event timeline", findings: "Findings", no_events: "No events recorded.",
    achieved: "achieved", paused: "paused", waiting: "connecting to the simulator…",
    start: "start", at: "s",
  },
};
const FONT = getComputedStyle(document.documentElement).getPropertyValue("--ui-font").trim();
const ROBOT_L = 0.281, ROBOT_W = 0.306; // TurtleBot3 Waffle Pi footprint, metres
const ZONE_FILL = { keep_out: "rgba(224,49,49,0.22)", slow: "rgba(250,176,5,0.22)", hot: "rgba(232,89,12,0.22)" };
const ZONE_LINE = { keep_out: "#e03131", slow: "#f08c00", hot: "#e8590c" };
const EVENT_COLOR = { task_done: "#2f9e44", task_failed: "#e8590c", collision: "#e03131",
  keep_out: "#c2255c", hot_zone: "#e8590c", mux_intervention: "#f08c00", near_miss: "#fab005" };

const $ = (id) => document.getElementById(id);
const canvas = $("floor");
const ctx = canvas.getContext("2d");
const app = (window.rootroute = {
  mode: null, lang: "ko", ready: false, scene: null, state: null, frames: 0,
  drawn: { t: 0, true: null, odom: null, scanPoints: 0, robotPx: null, overlays: 0 },
  trail: [], replay: null, playing: true, speed: 1, t: 0,
});

// ------------------------------------------------------------------ language
function tr(key) { return TEXT[app.lang][key] ?? key; }
function setLang(lang) {
  app.lang = lang;
  document.documentElement.lang = lang;
  $("lang-ko").classList.toggle("on", lang === "ko");
  $("lang-en").classList.toggle("on", lang === "en");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = tr(el.dataset.i18n);
  $("mode").textContent = tr(app.mode === "replay" ? "mode_replay" : "mode_live");
  if (app.title) $("title").textContent = app.title[lang] || "";
  updatePlayButton();
  if (app.replay) {
    fillEvents(); fillFindings();
    $("progress").textContent = app.replay.progress ? app.replay.progress[lang] : "—";
  }
  redraw();
}
$("lang-ko").onclick = () => setLang("ko");
$("lang-en").onclick = () => setLang("en");

// ------------------------------------------------------------------ drawing
let view = { s: 100, ox: 0, oy: 0 };
function fit() {
  const [fw, fh] = app.scene.floor, m = 0.4;
  const s = Math.min(canvas.width / (fw + 2 * m), canvas.height / (fh + 2 * m));
  view = { s, ox: (canvas.width - fw * s) / 2, oy: (canvas.height - fh * s) / 2 };
}
function px(x, y) { return [view.ox + x * view.s, canvas.height - (view.oy + y * view.s)]; }
function box(cx, cy, w, h, yaw, fill, stroke) {
  const [X, Y] = px(cx, cy);
  ctx.save(); ctx.translate(X, Y); ctx.rotate(-yaw);
  ctx.fillStyle = fill; ctx.fillRect(-w * view.s / 2, -h * view.s / 2, w * view.s, h * view.s);
  if (stroke) { ctx.strokeStyle = stroke; ctx.strokeRect(-w * view.s / 2, -h * view.s / 2, w * view.s, h * view.s); }
  ctx.restore();
}
function rgba(c) { return `rgba(${c.slice(0, 3).map((v) => Math.round(v * 255)).join(",")},${c[3]})`; }
function label(text, x, y, color = "#1d2733", size = 13) {
  const [X, Y] = px(x, y);
  ctx.font = `${size}px ${FONT}`; ctx.fillStyle = color; ctx.textAlign = "center";
  ctx.fillText(text, X, Y);
}
function polyline(points, color, width = 2, dash = []) {
  if (points.length < 2) return;
  ctx.beginPath(); ctx.setLineDash(dash); ctx.strokeStyle = color; ctx.lineWidth = width;
  points.forEach((p, i) => { const [X, Y] = px(p[0], p[1]); i ? ctx.lineTo(X, Y) : ctx.moveTo(X, Y); });
  ctx.stroke(); ctx.setLineDash([]); ctx.lineWidth = 1;
}
function dot(x, y, r, color) {
  const [X, Y] = px(x, y); ctx.fillStyle = color; ctx.beginPath(); ctx.arc(X, Y, r, 0, 2 * Math.PI); ctx.fill();
}
function arrow(x, y, yaw, len, color) {
  polyline([[x, y], [x + len * Math.cos(yaw), y + len * Math.sin(yaw)]], color, 2);
}
function robot(pose, fill, stroke, dashed) {
  const [x, y, yaw] = pose, [X, Y] = px(x, y);
  ctx.save(); ctx.translate(X, Y); ctx.rotate(-yaw);
  const l = ROBOT_L * view.s, w = ROBOT_W * view.s;
  if (dashed) ctx.setLineDash([4, 3]);
  ctx.lineWidth = 2; ctx.strokeStyle = stroke;
  if (fill) { ctx.fillStyle = fill; ctx.fillRect(-l / 2, -w / 2, l, w); }
  ctx.strokeRect(-l / 2, -w / 2, l, w);
  ctx.beginPath(); ctx.moveTo(0, 0); ctx.lineTo(l * 0.75, 0); ctx.stroke();
  ctx.restore();
}

function drawScene() {
  const sc = app.scene, L = app.lang;
  ctx.fillStyle = "#e9ecef"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  box(sc.floor[0] / 2, sc.floor[1] / 2, sc.floor[0], sc.floor[1], 0, "#ffffff");
  ctx.strokeStyle = "#f1f3f5";
  for (let gx = 1; gx < sc.floor[0]; gx++) polyline([[gx, 0], [gx, sc.floor[1]]], "#f1f3f5", 1);
  for (let gy = 1; gy < sc.floor[1]; gy++) polyline([[0, gy], [sc.floor[0], gy]], "#f1f3f5", 1);
  for (const z of sc.zones) {
    box(z.center[0], z.center[1], z.size[0], z.size[1], 0, ZONE_FILL[z.kind], ZONE_LINE[z.kind]);
    const cost = z.kind === "hot" ? ` (-${z.penalty_per_s}/${L === "ko" ? "초" : "s"})` : "";
    label(z[L] + cost, z.center[0], z.center[1] + z.size[1] / 2 - 0.15, ZONE_LINE[z.kind], 12);
  }
  for (const b of [...sc.walls, ...sc.obstacles]) box(b.center[0], b.center[1], b.size[0], b.size[1], b.yaw, rgba(b.rgba), "#495057");
  for (const p of sc.parts) box(p.center[0], p.center[1], p.size[0], p.size[1], p.yaw, "#f08c00", "#862e9c");
  for (const a of sc.actors) polyline(a.path, "rgba(134,46,156,0.5)", 1, [6, 4]);
  for (const s of sc.stations) {
    dot(s.stop[0], s.stop[1], 5, "#2f9e44");
    box(s.panel[0], s.panel[1], 0.08, 0.2, s.facing + Math.PI / 2, "#343a40");
    label(`${s[L]} (#${s.marker_id})`, s.stop[0], s.stop[1] - 0.28, "#2b8a3e", 13);
  }
  label(tr("start"), sc.start[0], sc.start[1] - 0.3, "#868e96", 11);
}

function drawActors(poses) {
  app.scene.actors.forEach((a, i) => {
    const p = poses && poses[i]; if (!p) return;
    if (a.kind === "forklift") box(p[0], p[1], a.size[0], a.size[1], p[2], "rgba(250,176,5,0.85)", "#5c3c00");
    else { dot(p[0], p[1], (Math.max(a.size[0], a.size[1]) / 2) * view.s, "rgba(134,46,156,0.8)"); }
    label(`${app.lang === "ko" ? a.kind_ko : a.kind} ${a.id}`, p[0], p[1] + 0.45, "#862e9c", 11);
  });
}

function drawOverlays(items) {
  for (const o of items || []) {
    const color = o.color || "#0ca678";
    if (o.shape === "strip") polyline(o.points, color, 2);
    else if (o.shape === "lines") for (let i = 0; i + 1 < o.points.length; i += 2) polyline([o.points[i], o.points[i + 1]], color, 2);
    else if (o.shape === "poses") o.points.forEach((p) => { dot(p[0], p[1], 3, color); arrow(p[0], p[1], p[2], 0.25, color); });
    else if (o.shape === "points") o.points.forEach((p) => dot(p[0], p[1], 2.5, color));
    else if (o.shape === "box") box(o.pose[0], o.pose[1], o.size[0], o.size[1], o.pose[2], color + "", null);
    else if (o.shape === "circle") dot(o.pose[0], o.pose[1], Math.max(2, (o.size[0] / 2) * view.s), color);
    else if (o.shape === "arrow") arrow(o.pose[0], o.pose[1], o.pose[2], Math.max(0.1, o.size[0]), color);
    else if (o.shape === "text") label(o.text, o.pose[0], o.pose[1], color, 12);
  }
}

function drawState(st) {
  if (!app.scene) return;
  drawScene();
  if (!st || !st.true) { app.drawn = { ...app.drawn, t: 0 }; return; }
  polyline(app.trail, "#74c0fc", 2);
  drawActors(st.actors);
  drawOverlays(st.overlays);
  for (const p of st.scan || []) { const [X, Y] = px(p[0], p[1]); ctx.fillStyle = "#e03131"; ctx.fillRect(X - 1.5, Y - 1.5, 3, 3); }
  if (st.odom) robot(st.odom, null, "#7048e8", true);
  robot(st.true, "rgba(28,126,214,0.75)", "#1864ab", false);
  app.frames += 1;
  app.drawn = { t: st.t, true: st.true, odom: st.odom, scanPoints: (st.scan || []).length,
    robotPx: px(st.true[0], st.true[1]), overlays: (st.overlays || []).length };
  $("time").textContent = st.t.toFixed(1);
}
function redraw() {
  if (app.replay) drawState(replayState(app.t)); else drawState(app.state);
}

// ------------------------------------------------------------------ controls
function updatePlayButton() { $("play").textContent = tr(app.playing ? "pause" : "play"); }
async function command(body) {
  if (app.mode !== "live") return;
  await fetch("/api/command", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}
$("play").onclick = () => {
  app.playing = !app.playing; updatePlayButton();
  command({ paused: !app.playing });
};
$("speed").onchange = () => {
  app.speed = parseFloat($("speed").value);
  command({ speed: app.speed });
};
function showSpeed(speed) {
  const opt = [...$("speed").options].find((o) => parseFloat(o.value) === speed);
  if (opt) $("speed").value = opt.value;
}

// ------------------------------------------------------------------ live
function startLive() {
  $("live-panel").hidden = false;
  $("progress").textContent = tr("waiting");
  let cameraSeq = null;
  const source = new EventSource("/api/stream");
  source.onmessage = (ev) => {
    const st = JSON.parse(ev.data);
    if (!st.true) return;
    app.state = st;
    if (app.state.t < (app.trail.length ? app.trail[app.trail.length - 1][2] : 0)) app.trail = [];
    const last = app.trail[app.trail.length - 1];
    if (!last || Math.hypot(last[0] - st.true[0], last[1] - st.true[1]) > 0.03) app.trail.push([st.true[0], st.true[1], st.t]);
    app.playing = !st.paused; updatePlayButton();
    if (document.activeElement !== $("speed")) showSpeed(st.speed);
    $("achieved").textContent = st.paused ? `(${tr("paused")})` : st.achieved_speed != null ? `(${tr("achieved")} ${st.achieved_speed.toFixed(1)}×)` : "";
    $("progress").textContent = st.progress ? st.progress[app.lang] : "—";
    if (st.camera_seq != null && st.camera_seq !== cameraSeq) {
      cameraSeq = st.camera_seq; $("camera").src = `/api/camera.jpg?seq=${cameraSeq}`;
      $("camera").hidden = false; $("camera-off").hidden = true;
    }
    const topics = [...new Set((st.overlays || []).map((o) => o.topic))];
    $("overlays").innerHTML = "";
    for (const t of topics) { const li = document.createElement("li"); li.textContent = t; $("overlays").appendChild(li); }
    if (!topics.length) { const li = document.createElement("li"); li.textContent = tr("no_topics"); $("overlays").appendChild(li); }
    app.ready = true;
    redraw();
  };
}

// ------------------------------------------------------------------ replay
function at(series, t) { // the last sample at or before t (series sorted by time, [t, ...])
  let lo = 0, hi = series.length - 1;
  if (hi < 0 || series[0][0] > t) return null;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (series[mid][0] <= t) lo = mid; else hi = mid - 1; }
  return series[lo];
}
function replayState(t) {
  const r = app.replay, truth = at(r.truth, t), odom = at(r.odom, t), scan = at(r.scans, t);
  const upto = r.truth.filter((p) => p[0] <= t);
  app.trail = upto.map((p) => [p[1], p[2]]);
  return { t, true: truth ? truth.slice(1) : null, odom: odom ? odom.slice(1) : null,
    scan: scan ? scan[1] : [], actors: actorsAt(t), overlays: [] };
}
function actorsAt(t) { const a = at(app.replay.actors, t); return a ? a[1] : []; }
function eventText(e) { return `${e.t_s.toFixed(1)} ${tr("at")} — ${e[app.lang]}`; }
function seek(t) {
  app.t = Math.max(0, Math.min(app.replay.duration_s, t));
  $("timeline").value = app.t; redraw();
}
function pauseAndSeek(t) { app.playing = false; updatePlayButton(); seek(t); }
function fillEvents() {
  const list = $("events"), marks = $("timeline-marks"), r = app.replay;
  list.innerHTML = ""; marks.innerHTML = "";
  r.events.forEach((e, i) => {
    const li = document.createElement("li");
    li.textContent = eventText(e); li.dataset.t = e.t_s; li.dataset.kind = e.kind; li.id = `event-${i}`;
    li.style.color = EVENT_COLOR[e.kind] || "#1d2733";
    li.onclick = () => pauseAndSeek(e.t_s);
    list.appendChild(li);
    const b = document.createElement("button");
    b.className = `k-${e.kind}`; b.title = eventText(e); b.dataset.t = e.t_s;
    b.style.left = `${(100 * e.t_s) / Math.max(r.duration_s, 1e-6)}%`;
    b.onclick = () => pauseAndSeek(e.t_s);
    marks.appendChild(b);
  });
  if (!r.events.length) { const li = document.createElement("li"); li.textContent = tr("no_events"); list.appendChild(li); }
}
function fillFindings() {
  const list = $("findings"); list.innerHTML = "";
  for (const f of app.replay.findings) {
    const li = document.createElement("li");
    li.textContent = (f.t_s != null ? `${f.t_s.toFixed(1)} ${tr("at")} — ` : "") + f[app.lang];
    if (f.t_s != null) li.onclick = () => pauseAndSeek(f.t_s);
    list.appendChild(li);
  }
}
async function startReplay() {
  app.replay = await (await fetch("/api/replay")).json();
  $("replay-panel").hidden = false; $("replay-bar").hidden = false;
  $("timeline").max = app.replay.duration_s;
  $("timeline").oninput = () => pauseAndSeek(parseFloat($("timeline").value));
  $("progress").textContent = app.replay.progress ? app.replay.progress[app.lang] : "—";
  showSpeed(1);
  fillEvents(); fillFindings();
  app.seek = seek;
  let last = performance.now();
  const tick = (now) => {
    const dt = (now - last) / 1000; last = now;
    if (app.playing) {
      const speed = app.speed > 0 ? app.speed : 16;
      seek(app.t + dt * speed);
      if (app.t >= app.replay.duration_s) { app.playing = false; updatePlayButton(); }
    }
    requestAnimationFrame(tick);
  };
  app.ready = true;
  seek(0);
  requestAnimationFrame(tick);
}

// ------------------------------------------------------------------ start
(async () => {
  const info = await (await fetch("/api/info")).json();
  app.mode = info.mode; app.title = info.title;
  app.scene = await (await fetch("/api/scene")).json();
  fit();
  setLang("ko");
  if (app.mode === "replay") await startReplay(); else startLive();
  setLang(app.lang);
})();
