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
})();
