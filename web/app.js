// The public ranking map: reads only the public API (GET /v1/units, GET /v1/stats/ranking for the levels the
// province publishes), draws the units as tiles coloured by their band (ECharts treemap, sized by dossiers
// processed) and the same figures as tables. State lives in the address (?kind=&n=&year=&unit=&level=), so a
// view can be linked to.
"use strict";

(function () {
  const params = new URLSearchParams(location.search);
  const API = (params.get("api") || window.MOTCUA_API || "").replace(/\/+$/, "");
  const BANDS = {
    excellent: { label: "Xuất sắc", color: "#14532d" },
    good: { label: "Tốt", color: "#3f6212" },
    fair: { label: "Khá", color: "#854d0e" },
    average: { label: "Trung bình", color: "#9a3412" },
    weak: { label: "Yếu", color: "#991b1b" },
  };
  const APART = { label: "Chưa đủ số hồ sơ", color: "#475569" };
  // Ranked, but Decision 766's index is not complete (groups not measured): no band is given, by the law's rule.
  const UNBANDED = { label: "Chưa xếp loại (chỉ số chưa đủ nhóm)", color: "#1e3a5f" };
  const LEVELS = { province: "Tỉnh, thành phố", department: "Sở, ban, ngành", commune: "Xã, phường, đặc khu",
                   district: "Cấp huyện (trước 01/7/2025)", centre: "Trung tâm Phục vụ hành chính công" };
  // The levels whose ranking the province publishes (MOTCUA_RANKING_PUBLIC_LEVELS, written into config.js).
  const PUBLISHED = new Set(window.MOTCUA_PUBLIC_LEVELS || ["province", "department", "commune"]);
  const KINDS = { month: 12, quarter: 4, half: 2, nine: 1, year: 1 };
  const number = new Intl.NumberFormat("vi-VN");
  const decimal = new Intl.NumberFormat("vi-VN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const percent = new Intl.NumberFormat("vi-VN", { style: "percent", minimumFractionDigits: 1,
                                                  maximumFractionDigits: 1 });
  const $ = (id) => document.getElementById(id);
  let units = new Map();
  let chart = null;
  let latest = 0; // the answer of the last request only is drawn

  // Official periods (Decree 09/2019 Art 12): from the 15th of the month before the period to the 14th of its
  // last month. Month n: 15/(n-1) - 14/n; quarter q: 15/(3q-3) - 14/3q; 6 and 9 months, the year: from 15/12 of
  // the year before.
  function period(kind, n, year) {
    const last = { month: n, quarter: 3 * n, half: 6 * n, nine: 9, year: 12 }[kind];
    const span = { month: 1, quarter: 3, half: 6, nine: 9, year: 12 }[kind];
    const first = new Date(Date.UTC(year, last - span - 1, 15));
    const end = new Date(Date.UTC(year, last - 1, 14));
    return { from: first.toISOString().slice(0, 10), to: end.toISOString().slice(0, 10) };
  }

  function dmy(day) {
    const [y, m, d] = day.split("-");
    return `${d}/${m}/${y}`;
  }

  function state() {
    const today = new Date();
    const kind = KINDS[params.get("kind")] ? params.get("kind") : "month";
    const year = Number(params.get("year")) || today.getFullYear();
    const n = Math.min(Math.max(Number(params.get("n")) || today.getMonth() + 1, 1), KINDS[kind]);
    return { kind, n, year, unit: params.get("unit") || null, level: params.get("level") || null };
  }

  function remember(s) {
    for (const [k, v] of Object.entries({ kind: s.kind, n: s.n, year: s.year, unit: s.unit, level: s.level })) {
      if (v === null || v === undefined) params.delete(k); else params.set(k, String(v));
    }
    history.replaceState(null, "", `${location.pathname}?${params.toString()}`);
  }

  async function getJson(path) {
    const response = await fetch(`${API}${path}`, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error((body.error && body.error.message) || `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function say(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "";
  }

  function fillPeriodControls(s) {
    $("period-kind").value = s.kind;
    const numbers = $("period-number");
    numbers.replaceChildren(...Array.from({ length: KINDS[s.kind] }, (_, i) => new Option(String(i + 1), i + 1)));
    numbers.value = String(s.n);
    $("period-number-label").hidden = KINDS[s.kind] === 1;
    const years = $("period-year");
    const now = new Date().getFullYear();
    const choices = [];
    for (let y = now + 1; y >= now - 6; y -= 1) choices.push(y);
    if (!choices.includes(s.year)) choices.push(s.year);
    years.replaceChildren(...choices.map((y) => new Option(String(y), y)));
    years.value = String(s.year);
    const p = period(s.kind, s.n, s.year);
    $("period-range").textContent = `Từ ngày ${dmy(p.from)} đến ngày ${dmy(p.to)}`;
  }

  function descendants(id) {
    const out = [];
    const stack = [id];
    while (stack.length) {
      const current = stack.pop();
      for (const u of units.values()) {
        if (u.parent === current) { out.push(u); stack.push(u.id); }
      }
    }
    return out;
  }

  // The levels a view can show: the root's own level at the top, else the levels below the chosen unit.
  function levelsBelow(unitId) {
    if (!unitId) {
      return [...new Set([...units.values()].filter((u) => !u.parent).map((u) => u.level))]
        .filter((l) => PUBLISHED.has(l));
    }
    const order = Object.keys(LEVELS);
    return [...new Set(descendants(unitId).map((u) => u.level))]
      .filter((l) => PUBLISHED.has(l))
      .sort((a, b) => order.indexOf(a) - order.indexOf(b));
  }

  function drawCrumbs(s) {
    const trail = [];
    for (let id = s.unit; id; id = (units.get(id) || {}).parent) trail.unshift(id);
    const nav = $("crumbs");
    nav.replaceChildren();
    const top = document.createElement("button");
    top.type = "button";
    top.textContent = "Toàn bộ";
    top.addEventListener("click", () => go({ ...s, unit: null, level: null }));
    nav.append(top);
    for (const id of trail) {
      nav.append(" › ");
      const here = id === s.unit;
      const el = document.createElement(here ? "span" : "button");
      el.textContent = (units.get(id) || { name: id }).name;
      if (here) el.setAttribute("aria-current", "page");
      else { el.type = "button"; el.addEventListener("click", () => go({ ...s, unit: id, level: null })); }
      nav.append(el);
    }
    const tabs = $("levels");
    tabs.replaceChildren(...levelsBelow(s.unit).map((level) => {
      const b = document.createElement("button");
      b.type = "button";
      b.setAttribute("role", "tab");
      b.setAttribute("aria-selected", String(level === s.level));
      b.dataset.level = level;
      b.textContent = LEVELS[level] || level;
      b.addEventListener("click", () => go({ ...s, level }));
      return b;
    }));
  }

  function drawLegend() {
    $("legend").replaceChildren(...[...Object.values(BANDS), UNBANDED, APART].map((b) => {
      const li = document.createElement("li");
      li.style.background = b.color;
      li.textContent = b.label;
      return li;
    }));
  }

  function cell(text, value, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (value !== undefined) td.dataset.value = value === null ? "" : String(value);
    if (className) td.className = className;
    return td;
  }

  function share(value) {
    return value === null || value === undefined ? "chưa đo" : percent.format(value);
  }

  function unitCell(row, s) {
    const td = document.createElement("td");
    td.className = "unit";
    td.dataset.value = row.unit;
    if (levelsBelow(row.unit).length) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = row.name;
      b.title = "Xem các đơn vị trực thuộc";
      b.addEventListener("click", () => go({ ...s, unit: row.unit, level: null }));
      td.append(b);
    } else {
      td.textContent = row.name;
    }
    return td;
  }

  function drawTables(answer, s) {
    const body = $("ranking").tBodies[0];
    body.replaceChildren(...answer.ranked.map((r) => {
      const tr = document.createElement("tr");
      tr.dataset.unit = r.unit;
      const band = BANDS[r.band] || UNBANDED;
      const bandCell = cell(r.band_label || UNBANDED.label, r.band, "band");
      bandCell.style.background = band.color;
      tr.append(cell(number.format(r.rank), r.rank), unitCell(r, s), cell(decimal.format(r.score), r.score),
        bandCell, cell(number.format(r.dossiers), r.dossiers), cell(number.format(r.received), r.received),
        cell(share(r.indicators.on_time), r.indicators.on_time), cell(share(r.indicators.online), r.indicators.online),
        cell(number.format(r.in_progress), r.in_progress), cell(number.format(r.overdue), r.overdue));
      tr.children[1].dataset.field = "name";
      return tr;
    }));
    $("ranking-caption").textContent = `${answer.ranked.length} đơn vị được xếp hạng (${LEVELS[answer.level] ||
      answer.level}), tối thiểu ${number.format(answer.min_dossiers)} hồ sơ đã xử lý trong kỳ.`;
    $("apart").tBodies[0].replaceChildren(...answer.apart.map((r) => {
      const tr = document.createElement("tr");
      tr.dataset.unit = r.unit;
      const reason = r.score === null ? "Không có hồ sơ đã xử lý"
        : `Dưới ${number.format(answer.min_dossiers)} hồ sơ đã xử lý`;
      tr.append(unitCell(r, s), cell(number.format(r.dossiers), r.dossiers), cell(number.format(r.received), r.received),
        cell(number.format(r.in_progress), r.in_progress), cell(number.format(r.overdue), r.overdue),
        cell(reason, r.reason));
      return tr;
    }));
    $("inactive").replaceChildren(...(answer.inactive.length ? answer.inactive.map((u) => {
      const li = document.createElement("li");
      li.dataset.unit = u.unit;
      li.textContent = u.name;
      return li;
    }) : [Object.assign(document.createElement("li"), { textContent: "Không có" })]));
  }

  function drawMap(answer, s) {
    if (!window.echarts) { say("Không tải được thư viện biểu đồ.", true); return Promise.resolve(); }
    if (!chart) {
      chart = window.echarts.init($("map"), null, { renderer: "canvas" });
      window.addEventListener("resize", () => chart.resize());
    }
    // A tile's area is the dossiers the unit processed, but never under a twentieth of the map's total, so that a
    // unit with few or none still shows and can be read. Units listed apart carry no score: too few dossiers.
    const total = [...answer.ranked, ...answer.apart].reduce((sum, r) => sum + r.dossiers, 0);
    const tile = (r, band) => ({
      name: r.name, value: Math.max(r.dossiers, total / 20, 1), dossiers: r.dossiers, unit: r.unit, score: band === APART ? null : r.score, band,
      itemStyle: { color: band.color }, label: { color: "#ffffff" },
    });
    const data = [...answer.ranked.map((r) => tile(r, BANDS[r.band] || UNBANDED)),
                  ...answer.apart.map((r) => tile(r, APART))];
    // Drawn on the next frames: resolved when ECharts says the map is rendered (the page is then "ready").
    const drawn = new Promise((resolve) => {
      chart.off("finished");
      chart.on("finished", () => { chart.off("finished"); resolve(); });
    });
    chart.setOption({
      animation: false,
      tooltip: { formatter: (p) => {
        const d = p.data;
        const score = d.score === null || d.score === undefined ? "chưa có điểm" : `${decimal.format(d.score)} điểm`;
        return `${d.name}<br>${score} · ${d.band.label}<br>${number.format(d.dossiers)} hồ sơ đã xử lý`;
      } },
      series: [{
        type: "treemap", roam: false, nodeClick: false, breadcrumb: { show: false }, data,
        width: "100%", height: "100%", top: 0, left: 0,
        label: { show: true, overflow: "break", fontSize: 13, lineHeight: 18, formatter: (p) => p.data.score === null || p.data.score === undefined
          ? p.name : `${p.name}\n${decimal.format(p.data.score)}` },
        itemStyle: { borderColor: "#ffffff", borderWidth: 2, gapWidth: 2 },
      }],
    }, true);
    chart.off("click");
    chart.on("click", (p) => {
      if (p.data && levelsBelow(p.data.unit).length) go({ ...s, unit: p.data.unit, level: null });
    });
    return drawn;
  }

  async function show(s) {
    const ticket = ++latest;
    fillPeriodControls(s);
    drawCrumbs(s);
    if (!s.level) { say("Chọn một cấp đơn vị để xem xếp hạng."); return; }
    const p = period(s.kind, s.n, s.year);
    const query = new URLSearchParams({ level: s.level, from: p.from, to: p.to });
    if (s.unit) query.set("unit", s.unit);
    say("Đang tải…");
    document.body.dataset.ready = "false";
    try {
      const answer = await getJson(`/v1/stats/ranking?${query}`);
      if (ticket !== latest) return;
      drawTables(answer, s);
      await drawMap(answer, s);
      say(`Cập nhật ${new Date().toLocaleTimeString("vi-VN")}.`);
      document.body.dataset.ready = "true";
      document.body.dataset.query = query.toString();
    } catch (error) {
      if (ticket !== latest) return;
      say(error.status === 401 ? "Xếp hạng của cấp này chưa được công khai."
        : `Không tải được số liệu: ${error.message}`, true);
    }
  }

  function go(s) {
    if (!s.level) s.level = levelsBelow(s.unit)[0] || null;
    remember(s);
    show(s);
  }

  async function start() {
    drawLegend();
    const s = state();
    fillPeriodControls(s);
    $("period-kind").addEventListener("change", () => {
      const c = state();
      c.kind = $("period-kind").value;
      c.n = Math.min(c.n, KINDS[c.kind]);
      go(c);
    });
    $("period-number").addEventListener("change", () => go({ ...state(), n: Number($("period-number").value) }));
    $("period-year").addEventListener("change", () => go({ ...state(), year: Number($("period-year").value) }));
    try {
      const list = await getJson("/v1/units");
      units = new Map(list.items.map((u) => [u.id, u]));
    } catch (error) {
      say(`Không tải được danh sách đơn vị: ${error.message}`, true);
      return;
    }
    go(s);
  }

  start();
})();
