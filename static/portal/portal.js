// Portal behaviour: written for this project; loaded from a file so no inline script is needed.
// Every page works without it; this only adds comfort (tabs, select all, copy).
(function () {
  "use strict";

  // Turn the fieldsets of a [data-tabs] container into ARIA tabs. The first tab holding an
  // error opens, so the customer sees what to correct.
  function buildTabs(container) {
    if (container.classList.contains("enhanced")) return;
    var panels = Array.prototype.slice.call(container.querySelectorAll(":scope > .tab-panel"));
    if (panels.length < 2) return;
    var tablist = document.createElement("div");
    tablist.setAttribute("role", "tablist");
    tablist.className = "tablist";
    var tabs = panels.map(function (panel, index) {
      var tab = document.createElement("button");
      tab.type = "button";
      tab.setAttribute("role", "tab");
      tab.id = panel.id + "-tab";
      tab.setAttribute("aria-controls", panel.id);
      tab.textContent = panel.getAttribute("data-tab-title");
      if (panel.classList.contains("has-errors")) {
        tab.classList.add("has-errors");
        tab.setAttribute("aria-label", tab.textContent + " (has errors)");
      }
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      tab.addEventListener("click", function () { select(index, false); });
      tab.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight") next = (index + 1) % tabs.length;
        if (event.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
        if (event.key === "Home") next = 0;
        if (event.key === "End") next = tabs.length - 1;
        if (next !== null) {
          event.preventDefault();
          select(next, true);
        }
      });
      tablist.appendChild(tab);
      return tab;
    });

    function select(chosen, focus) {
      tabs.forEach(function (tab, index) {
        var active = index === chosen;
        tab.setAttribute("aria-selected", active ? "true" : "false");
        tab.tabIndex = active ? 0 : -1;
        panels[index].hidden = !active;
      });
      if (focus) tabs[chosen].focus();
    }

    var firstError = panels.findIndex(function (p) { return p.classList.contains("has-errors"); });
    container.insertBefore(tablist, panels[0]);
    container.classList.add("enhanced");
    select(firstError >= 0 ? firstError : 0, false);
  }

  // "Select all" boxes and the count on each section's delete button.
  function updateSelection(section) {
    var boxes = document.querySelectorAll('input[data-select="' + section + '"]');
    var ticked = 0;
    boxes.forEach(function (box) { if (box.checked) ticked += 1; });
    var all = document.querySelector('input[data-select-all="' + section + '"]');
    if (all) {
      all.closest("label").hidden = boxes.length === 0;
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    var count = document.querySelector('[data-selected-count="' + section + '"]');
    if (count) count.textContent = ticked ? " (" + ticked + ")" : "";
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("input[data-select-all]")) {
      var section = target.getAttribute("data-select-all");
      document.querySelectorAll('input[data-select="' + section + '"]').forEach(function (box) {
        box.checked = target.checked;
      });
      updateSelection(section);
    } else if (target.matches("input[data-select]")) {
      updateSelection(target.getAttribute("data-select"));
    }
  });

  // The "any IP address may use this account" warning follows the whitelist as it is typed.
  document.addEventListener("input", function (event) {
    var warning = document.querySelector('[data-empty-warning="' + event.target.id + '"]');
    if (warning) warning.hidden = event.target.value.trim() !== "";
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    field.select();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else if (document.execCommand("copy")) {
      done();
    }
  });

  // A request that may take a while (a sync run in the request, say) shows that it is under
  // way, and a second press does not send it twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (form.getAttribute("aria-busy") === "true") {
      event.preventDefault();
      return;
    }
    if (!button || !button.hasAttribute("data-busy-label")) return;
    button.setAttribute("data-ready-label", button.innerHTML);
    button.textContent = button.getAttribute("data-busy-label");
    button.setAttribute("aria-disabled", "true");
    form.setAttribute("aria-busy", "true");
  });

  // Coming back through the browser's history shows the page as it was left: ready again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll('form[aria-busy="true"]').forEach(function (form) {
      form.removeAttribute("aria-busy");
    });
    document.querySelectorAll("[data-ready-label]").forEach(function (button) {
      button.innerHTML = button.getAttribute("data-ready-label");
      button.removeAttribute("data-ready-label");
      button.removeAttribute("aria-disabled");
    });
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-select-on-focus]")) event.target.select();
  });

  // The Auth tab's two sections each keep their search and page in the address. A live search
  // or page change redraws one section only, so the links and forms of the other one still
  // hold the first section's state as it was when they were drawn. Take it from the address
  // instead, which htmx keeps current.
  function otherSectionsState(prefix) {
    var state = new URLSearchParams();
    new URLSearchParams(window.location.search).forEach(function (value, key) {
      if (key.indexOf(prefix) !== 0) state.append(key, value);
    });
    return state;
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail;
    var owner = detail.elt.closest("[data-state-prefix]");
    if (!owner || detail.verb !== "get") return;
    var prefix = owner.getAttribute("data-state-prefix") + "-";
    var url = new URL(detail.path, window.location.href);
    Array.from(url.searchParams.keys()).forEach(function (key) {
      if (key.indexOf(prefix) !== 0) url.searchParams.delete(key);
    });
    var data = detail.formData;
    Array.from(data.keys()).forEach(function (key) {
      if (key.indexOf(prefix) !== 0) data.delete(key);
    });
    otherSectionsState(prefix).forEach(function (value, key) { data.append(key, value); });
    detail.path = url.pathname + url.search;
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-clear-state]");
    if (!link) return;
    var state = otherSectionsState(link.getAttribute("data-clear-state") + "-").toString();
    link.href = window.location.pathname + (state ? "?" + state : "");
  });

  function enhance(root) {
    root.querySelectorAll("[data-tabs]").forEach(buildTabs);
    root.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = false; });
    ["ip", "sip"].forEach(updateSelection);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    var alert = document.querySelector("[data-autofocus]");
    if (alert) alert.focus();
  });
  // Live search and paging replace a table: its "select all" box needs setting up again.
  document.addEventListener("htmx:afterSettle", function () { enhance(document); });
})();
