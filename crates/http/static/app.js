// Small improvements on top of pages that work without JavaScript. No inline handlers: every
// behaviour is declared with a data- attribute and wired here.
(function () {
  document.documentElement.classList.add("js");

  // A choice that changes which fields a form shows (a rule's kind, tiers or percent) re-renders
  // the form at once, through the same button a visitor without JavaScript presses.
  document.querySelectorAll("[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => {
      const button = el.form && el.form.querySelector("button[data-refresh]");
      if (button) el.form.requestSubmit(button);
    });
  });

  // Destructive forms ask first.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // "Select all" for a column of checkboxes.
  document.querySelectorAll("input[data-select-all]").forEach((all) => {
    const name = all.getAttribute("data-select-all");
    const boxes = () => document.querySelectorAll(`input[type=checkbox][name="${name}"]`);
    all.addEventListener("change", () => boxes().forEach((b) => { b.checked = all.checked; }));
  });

  // Uploads can take a while: say so, and do not send twice.
  document.querySelectorAll("form[data-busy]").forEach((form) => {
    form.addEventListener("submit", () => {
      const button = form.querySelector("button[type=submit]:not([data-refresh])");
      if (!button) return;
      setTimeout(() => { button.disabled = true; button.textContent = form.getAttribute("data-busy"); }, 0);
    });
  });

  // Nested groups of an analysis fold and unfold from their subtotal row (a real button, so the
  // keyboard reaches it). Without JavaScript every row shows.
  document.querySelectorAll("table[data-collapsible]").forEach((table) => {
    const rows = Array.from(table.querySelectorAll("tbody tr[data-path]"));
    const below = (path) => rows.filter((r) => r.dataset.path.startsWith(path + "/"));
    rows.filter((r) => r.classList.contains("subtotal")).forEach((row) => {
      const cell = row.querySelector("th");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "fold";
      button.setAttribute("aria-expanded", "true");
      button.setAttribute("aria-label", "Fold " + cell.textContent.trim());
      button.textContent = "−";
      button.addEventListener("click", () => {
        const open = button.getAttribute("aria-expanded") !== "true";
        button.setAttribute("aria-expanded", String(open));
        button.textContent = open ? "−" : "+";
        button.setAttribute("aria-label", (open ? "Fold " : "Unfold ") + cell.textContent.trim());
        below(row.dataset.path).forEach((r) => {
          r.hidden = !open;
          const inner = r.querySelector("button.fold");
          if (inner) { inner.setAttribute("aria-expanded", String(open)); inner.textContent = open ? "−" : "+"; }
        });
      });
      cell.prepend(button);
    });
  });
})();
