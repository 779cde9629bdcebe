/*
 * Xiangyun (祥云 · 一体化公共数据平台) — progressive enhancement for the console and the portal.
 * Dependency-free; every page works without it. Uses window.echarts and window.htmx when they are loaded.
 *
 *   data-chart='{"xAxis":…}'   ECharts option as JSON (or "#id" of a <script type="application/json">);
 *                               initialised, themed, resized; re-initialised after htmx swaps.
 *   data-confirm="…"           on a form, submit button, button or link: asks confirm() first.
 *   data-copy                  on a non-button element: a "复制/Copy" button is added after it that copies its text.
 *   data-copy="#id"            on a button: copies the value/text of the element with that id;
 *   data-copy="text"           on a button: copies that literal text.
 *   data-class-picker          around a classification input: a searchable tree of 类/项 that fills it.
 *   data-progress              on a form with a file input: uploads with XMLHttpRequest showing percent in the form's
 *                               .progress-bar, then follows the server's redirect, or swaps the response HTML into
 *                               data-target="#sel" (innerHTML) — by default it replaces the form itself.
 */
(function () {
  'use strict';

  var doc = document;
  // Public hooks: Xiangyun.enhance(el) after inserting content by other means; navigate can be replaced in tests.
  var api = window.Xiangyun = { navigate: function (url) { window.location.assign(url); } };
  var EN = /^en/i.test(doc.documentElement.lang || '');
  var T = EN
    ? { copy: 'Copy', copied: 'Copied', copyFail: 'Copy failed — select the text and press Ctrl+C',
        uploadFail: 'The upload failed. Please check the connection and try again.', leave: 'An upload is in progress.' }
    : { copy: '复制', copied: '已复制', copyFail: '复制失败，请选中文本后按 Ctrl+C 复制',
        uploadFail: '上传失败，请检查网络后重试。', leave: '文件正在上传。' };

  function each(root, sel, fn) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches(sel)) fn(root);
    Array.prototype.forEach.call(root.querySelectorAll(sel), fn);
  }

  // --------------------------------------------------------------- live region for announcements
  var live;
  function announce(msg) {
    if (!live) {
      live = doc.createElement('div');
      live.className = 'sr-only';
      live.setAttribute('aria-live', 'polite');
      live.setAttribute('role', 'status');
      doc.body.appendChild(live);
    }
    live.textContent = '';
    setTimeout(function () { live.textContent = msg; }, 30);
  }

  // --------------------------------------------------------------- (a) charts
  var PALETTE = ['#1650a5', '#3b8ad9', '#2a9d8f', '#e0a03a', '#c2514a', '#6f62c4', '#5fa8c9', '#8c96a8', '#94b84a', '#d97a9c'];
  var FONT = 'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", ' +
    '"Noto Sans CJK SC", "Noto Sans SC", sans-serif';
  var AXIS = { color: '#5a6577', line: '#c9d0db', split: '#e8ecf1' };
  var THEME = 'xiangyun';
  var themed = false;
  var charts = [];
  var reduceMotion = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;

  function axis() {
    return {
      axisLine: { lineStyle: { color: AXIS.line } },
      axisTick: { lineStyle: { color: AXIS.line } },
      axisLabel: { color: AXIS.color },
      splitLine: { lineStyle: { color: AXIS.split } },
      nameTextStyle: { color: AXIS.color }
    };
  }

  function registerTheme(ec) {
    if (themed) return;
    themed = true;
    ec.registerTheme(THEME, {
      color: PALETTE,
      backgroundColor: 'transparent',
      textStyle: { fontFamily: FONT, color: '#1d2633' },
      title: { textStyle: { color: '#1d2633', fontSize: 15, fontWeight: 600 }, subtextStyle: { color: AXIS.color } },
      legend: { textStyle: { color: '#3d4757' } },
      tooltip: {
        backgroundColor: 'rgba(255,255,255,0.97)', borderColor: '#dde2ea',
        textStyle: { color: '#1d2633', fontFamily: FONT }
      },
      categoryAxis: axis(), valueAxis: axis(), timeAxis: axis(), logAxis: axis(),
      line: { symbolSize: 6, smooth: false, lineStyle: { width: 2 } },
      bar: { itemStyle: { borderRadius: [2, 2, 0, 0] } },
      pie: { itemStyle: { borderColor: '#fff', borderWidth: 1 } }
    });
  }

  function readOption(el) {
    var raw = el.getAttribute('data-chart') || '';
    if (raw.charAt(0) === '#') {
      var src = doc.getElementById(raw.slice(1));
      raw = src ? src.textContent : '';
    }
    if (!raw.trim()) return null;
    try { return { raw: raw, option: JSON.parse(raw) }; } catch (e) {
      if (window.console) console.warn('data-chart: invalid JSON', el, e);
      return null;
    }
  }

  function prepare(option, el) {
    if (option.aria === undefined) option.aria = { enabled: true }; // ECharts writes an aria-label describing the data
    if (reduceMotion) option.animation = false;
    if (option.grid === undefined && (option.xAxis || option.yAxis)) {
      option.grid = { left: 12, right: 16, top: option.legend ? 40 : 24, bottom: 8, containLabel: true };
    }
    if (option.tooltip === undefined) option.tooltip = { trigger: option.xAxis || option.yAxis ? 'axis' : 'item', confine: true };
    if (!el.hasAttribute('role')) el.setAttribute('role', 'img');
    return option;
  }

  // ECharts (about 1 MB) is loaded only when a page has a chart.
  var echartsLoading = false;
  function loadECharts(root) {
    if (echartsLoading) return;
    echartsLoading = true;
    var s = doc.createElement('script');
    s.src = '/static/vendor/echarts.min.js';
    s.onload = function () { initCharts(doc); };
    doc.head.appendChild(s);
  }

  function initCharts(root) {
    var ec = window.echarts;
    if (!ec) {
      var any = false;
      each(root || doc, '[data-chart]', function () { any = true; });
      if (any) loadECharts();
      return;
    }
    registerTheme(ec);
    each(root || doc, '[data-chart]', function (el) {
      var parsed = readOption(el);
      if (!parsed) return;
      var inst = ec.getInstanceByDom(el);
      if (inst && el.__xyChart === parsed.raw) return; // already showing this option
      if (!inst) {
        inst = ec.init(el, THEME, { renderer: el.getAttribute('data-renderer') || 'canvas', locale: EN ? 'EN' : 'ZH' });
        charts.push(inst);
        if (window.ResizeObserver) {
          var ro = new ResizeObserver(function () { if (!inst.isDisposed()) inst.resize(); });
          ro.observe(el);
          el.__xyRO = ro;
        }
      }
      el.__xyChart = parsed.raw;
      inst.setOption(prepare(parsed.option, el), true);
    });
  }

  function prune() {
    charts = charts.filter(function (c) {
      if (c.isDisposed()) return false;
      var dom = c.getDom();
      if (dom && dom.isConnected) return true;
      if (dom && dom.__xyRO) dom.__xyRO.disconnect();
      c.dispose();
      return false;
    });
  }

  var resizeQueued = false;
  window.addEventListener('resize', function () {
    if (resizeQueued) return;
    resizeQueued = true;
    (window.requestAnimationFrame || setTimeout)(function () {
      resizeQueued = false;
      prune();
      charts.forEach(function (c) { c.resize(); });
    });
  });

  // --------------------------------------------------------------- (b) confirm
  function ask(el) {
    var msg = el && el.getAttribute && el.getAttribute('data-confirm');
    return !msg || window.confirm(msg);
  }
  function stop(e) { e.preventDefault(); e.stopImmediatePropagation(); }

  doc.addEventListener('submit', function (e) {
    var form = e.target;
    var btn = e.submitter;
    if (btn && btn.hasAttribute('data-confirm')) { if (!ask(btn)) stop(e); return; }
    if (!ask(form)) stop(e);
  }, true);

  doc.addEventListener('click', function (e) {
    var el = e.target.closest && e.target.closest('[data-confirm]');
    if (!el || el.tagName === 'FORM') return;
    var isSubmit = (el.tagName === 'BUTTON' && (el.type || 'submit') === 'submit' && el.form) ||
                   (el.tagName === 'INPUT' && (el.type === 'submit' || el.type === 'image') && el.form);
    var hasSubmitter = typeof SubmitEvent !== 'undefined' && 'submitter' in SubmitEvent.prototype;
    if (isSubmit && hasSubmitter && !el.hasAttribute('hx-post') &&
        !el.hasAttribute('hx-delete') && !el.hasAttribute('hx-put') && !el.hasAttribute('hx-patch')) {
      return; // asked on the submit event, so Enter in a field is covered too
    }
    if (!ask(el)) stop(e);
  }, true);

  // --------------------------------------------------------------- (c) language switch
  // The switch links name the page they come back to; a search updated in place (htmx, pushed to the address bar)
  // has moved on since, so come back to the address the browser shows now.
  doc.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('.lang-switch a[href^="/lang?"]');
    if (!a || !window.URL || !window.history || !history.state || !history.state.htmx) return;
    var u = new URL(a.href, window.location.href);
    u.searchParams.set('next', window.location.pathname + window.location.search);
    a.href = u.pathname + u.search;
  }, true);

  // --------------------------------------------------------------- (d) copy to clipboard
  function textOf(el) {
    if (!el) return '';
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) return el.value;
    return (el.getAttribute('data-copy-text') || el.textContent || '').trim();
  }

  function fallbackCopy(text) {
    var ta = doc.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    doc.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = doc.execCommand('copy'); } catch (e) { ok = false; }
    doc.body.removeChild(ta);
    return ok;
  }

  function copy(text, btn) {
    function done(ok) {
      var label = btn.getAttribute('data-label') || btn.textContent;
      btn.setAttribute('data-label', label);
      btn.textContent = ok ? T.copied : label;
      btn.classList.toggle('copied', ok);
      announce(ok ? T.copied : T.copyFail);
      clearTimeout(btn.__xyT);
      btn.__xyT = setTimeout(function () { btn.textContent = label; btn.classList.remove('copied'); }, 2000);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallbackCopy(text)); });
    } else {
      done(fallbackCopy(text));
    }
  }

  function initCopy(root) {
    each(root || doc, '[data-copy]', function (el) {
      if (el.tagName === 'BUTTON' || el.__xyCopy) return;
      el.__xyCopy = true;
      var btn = doc.createElement('button');
      btn.type = 'button';
      btn.className = 'btn btn-sm';
      btn.textContent = el.getAttribute('data-copy-label') || T.copy;
      btn.__xyCopyFrom = el;
      el.insertAdjacentElement('afterend', btn);
    });
  }

  doc.addEventListener('click', function (e) {
    var btn = e.target.closest && e.target.closest('button');
    if (!btn) return;
    var from = btn.__xyCopyFrom;
    if (!from && btn.hasAttribute('data-copy')) {
      var val = btn.getAttribute('data-copy');
      if (!val) return;
      if (val.charAt(0) !== '#') { // literal text to copy
        e.preventDefault();
        copy(val, btn);
        return;
      }
      from = doc.getElementById(val.slice(1));
    }
    if (!from) return;
    e.preventDefault();
    copy(textOf(from), btn);
  });

  // --------------------------------------------------------------- (e) upload with progress
  var uploading = 0;
  window.addEventListener('beforeunload', function (e) {
    if (uploading > 0) { e.preventDefault(); e.returnValue = T.leave; return T.leave; }
  });

  function setProgress(form, pct, state) {
    var box = form.querySelector('.progress');
    var bar = form.querySelector('.progress-bar');
    var txt = form.querySelector('.progress-text');
    if (box) {
      box.hidden = false;
      box.removeAttribute('hidden');
      box.setAttribute('role', 'progressbar');
      box.setAttribute('aria-valuemin', '0');
      box.setAttribute('aria-valuemax', '100');
      box.setAttribute('aria-valuenow', String(pct));
      box.classList.toggle('done', state === 'done');
      box.classList.toggle('failed', state === 'failed');
    }
    if (bar) bar.style.width = pct + '%';
    if (txt) { txt.hidden = false; txt.textContent = pct + '%'; }
  }

  function setBusy(form, busy) {
    Array.prototype.forEach.call(form.querySelectorAll('button, input[type="submit"]'), function (b) {
      if (busy) { b.__xyWas = b.disabled; b.disabled = true; } else { b.disabled = !!b.__xyWas; }
    });
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  function showError(form, msg) {
    var a = form.querySelector('.alert[data-upload-error]');
    if (!a) {
      a = doc.createElement('div');
      a.className = 'alert alert-error';
      a.setAttribute('role', 'alert');
      a.setAttribute('data-upload-error', '');
      form.insertBefore(a, form.firstChild);
    }
    a.textContent = msg;
  }

  function swapIn(form, html) {
    var sel = form.getAttribute('data-target');
    var target = sel ? doc.querySelector(sel) : null;
    var fresh;
    if (target) {
      target.innerHTML = html;
      fresh = target;
    } else {
      var tpl = doc.createElement('template');
      tpl.innerHTML = html.trim();
      var nodes = Array.prototype.slice.call(tpl.content.childNodes);
      var parent = form.parentNode;
      form.replaceWith(tpl.content);
      fresh = parent;
      var first = nodes.filter(function (n) { return n.nodeType === 1; })[0];
      if (first) {
        var focusable = first.querySelector('[aria-invalid="true"], .alert, input, select, textarea');
        if (focusable) {
          if (!focusable.hasAttribute('tabindex') && focusable.classList.contains('alert')) focusable.setAttribute('tabindex', '-1');
          focusable.focus();
        }
      }
    }
    if (window.htmx && window.htmx.process) window.htmx.process(fresh);
    enhance(fresh);
  }

  doc.addEventListener('submit', function (e) {
    var form = e.target;
    if (e.defaultPrevented || !form.hasAttribute || !form.hasAttribute('data-progress')) return;
    if (!window.XMLHttpRequest || !window.FormData) return;
    if (form.hasAttribute('hx-post') || form.hasAttribute('hx-put')) return; // htmx handles it
    e.preventDefault();

    var fd;
    try { fd = new FormData(form, e.submitter || undefined); } catch (err) {
      fd = new FormData(form);
      if (e.submitter && e.submitter.name) fd.append(e.submitter.name, e.submitter.value);
    }
    var action = (e.submitter && e.submitter.getAttribute('formaction')) || form.getAttribute('action') || location.href;
    var url = new URL(action, location.href);
    url.hash = '';
    url = url.href;
    var method = ((e.submitter && e.submitter.getAttribute('formmethod')) || form.getAttribute('method') || 'POST').toUpperCase();

    var xhr = new XMLHttpRequest();
    xhr.open(method, url, true);
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    xhr.setRequestHeader('X-Upload-Progress', '1');

    xhr.upload.addEventListener('progress', function (ev) {
      if (ev.lengthComputable) setProgress(form, Math.min(99, Math.floor(ev.loaded * 100 / ev.total)));
    });
    xhr.upload.addEventListener('load', function () { setProgress(form, 100); });

    function finish() { uploading = Math.max(0, uploading - 1); setBusy(form, false); }

    xhr.addEventListener('load', function () {
      finish();
      var loc = xhr.getResponseHeader('HX-Redirect') || xhr.getResponseHeader('X-Location') || xhr.getResponseHeader('Location');
      var html = xhr.responseText || '';
      var ctype = xhr.getResponseHeader('Content-Type') || '';
      if (loc) { setProgress(form, 100, 'done'); api.navigate(new URL(loc, url).href); return; }
      var final = xhr.responseURL || url;
      var wholePage = /<html[\s>]/i.test(html.slice(0, 2000));
      if (final !== url || (wholePage && xhr.status < 400)) {
        setProgress(form, 100, 'done');
        api.navigate(final); // the server redirected (303 See Other) or answered with a full page: show it
        return;
      }
      if (html && /html/i.test(ctype || 'text/html') && !wholePage) {
        setProgress(form, 100, xhr.status < 400 ? 'done' : 'failed');
        swapIn(form, html);
        return;
      }
      setProgress(form, 100, 'failed');
      showError(form, T.uploadFail + (xhr.status ? ' (HTTP ' + xhr.status + ')' : ''));
    });
    xhr.addEventListener('error', function () { finish(); setProgress(form, 0, 'failed'); showError(form, T.uploadFail); });
    xhr.addEventListener('abort', function () { finish(); setProgress(form, 0, 'failed'); });

    uploading++;
    setBusy(form, true);
    setProgress(form, 0);
    xhr.send(fd);
  });

  // --------------------------------------------------------------- class picker
  // <div data-class-picker data-for="class"> with a toggle button, a search box and buttons carrying data-code
  // ("1/01/") and data-words (labels and aliases). Choosing one writes the code into the input and keeps a
  // 目 (last three digits) already typed there.
  function initClassPicker(root) {
    each(root, '[data-class-picker]', function (box) {
      if (box.__xyPicker) return;
      box.__xyPicker = true;
      var input = doc.getElementById(box.getAttribute('data-for'));
      var toggle = box.querySelector('[data-picker-toggle]');
      var panel = box.querySelector('[data-picker-panel]');
      var search = box.querySelector('input[type=search]');
      var count = box.querySelector('[data-picker-count]');
      if (!input || !toggle || !panel) return;
      function open(on) {
        panel.hidden = !on;
        toggle.setAttribute('aria-expanded', on ? 'true' : 'false');
        if (on && search) search.focus();
      }
      toggle.addEventListener('click', function () { open(panel.hidden); });
      panel.addEventListener('keydown', function (e) {
        if (e.key === 'Escape') { open(false); toggle.focus(); }
      });
      if (search) search.addEventListener('input', function () {
        var q = search.value.trim().toLowerCase();
        var shown = 0;
        each(panel, '[data-code]', function (b) {
          var hit = !q || (b.getAttribute('data-words') || '').toLowerCase().indexOf(q) >= 0 ||
            b.getAttribute('data-code').indexOf(q) === 0;
          b.parentNode.hidden = !hit;
          if (hit) shown++;
        });
        each(panel, '[data-picker-group]', function (g) {
          g.hidden = !g.querySelector('li:not([hidden]) [data-code]');
        });
        if (count) count.textContent = String(shown);
      });
      panel.addEventListener('click', function (e) {
        var b = e.target.closest && e.target.closest('[data-code]');
        if (!b) return;
        var code = b.getAttribute('data-code');
        var m = /^\d\/\d{2}\/(\d{3}(\/\d+)?)$/.exec(input.value.trim());
        input.value = code + (m && code.length === 5 ? m[1] : '');
        input.dispatchEvent(new Event('input', { bubbles: true }));
        open(false);
        input.focus();
        if (input.setSelectionRange) input.setSelectionRange(input.value.length, input.value.length);
        announce(b.textContent.replace(/\s+/g, ' ').trim());
      });
    });
  }

  // --------------------------------------------------------------- scroll boxes and folded filters
  // A table box that scrolls sideways must be reachable by keyboard (WCAG 2.1.1): it gets tabindex and a name.
  function initScrollBoxes(root) {
    each(root, '.table-wrap', function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute('tabindex')) {
        box.setAttribute('tabindex', '0');
        box.setAttribute('role', 'region');
        if (!box.hasAttribute('aria-label') && !box.hasAttribute('aria-labelledby')) {
          var card = box.closest('.card');
          var h = card && card.querySelector('h2, h3');
          box.setAttribute('aria-label', (h ? h.textContent.trim() + ' — ' : '') + (EN ? 'table, scrolls sideways' : '表格，可左右滚动'));
        }
      }
    });
  }
  // Filters folded above the results on narrow screens start closed there, so the results come first.
  function initFold(root) {
    if (!window.matchMedia || !window.matchMedia('(max-width: 1280px)').matches) return;
    each(root, 'details[data-fold-narrow]', function (d) {
      if (d.__xyFold) return;
      d.__xyFold = true;
      if (!d.querySelector('a.on')) d.open = false;
    });
  }
  window.addEventListener('resize', function () { initScrollBoxes(doc); });

  // --------------------------------------------------------------- start and htmx
  function enhance(root) {
    initCharts(root);
    initCopy(root);
    initClassPicker(root);
    initFold(root);
    initScrollBoxes(root);
  }

  function start() { enhance(doc); }
  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', start); else start();

  doc.addEventListener('htmx:afterSwap', function (e) {
    prune();
    var t = e.detail && e.detail.target;
    enhance(t && t.isConnected ? t : doc);
  });
  doc.addEventListener('htmx:load', function (e) { if (e.target && e.target.isConnected) enhance(e.target); });

  api.initCharts = initCharts;
  api.enhance = enhance;
  api.palette = PALETTE.slice();
})();
