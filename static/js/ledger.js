/* Ledger page: print button and auto-submitting filters (no inline script: CSP). */
(function () {
  document.querySelectorAll("[data-print]").forEach(function (btn) {
    btn.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("form.ledger-filter select").forEach(function (sel) {
    sel.addEventListener("change", function () {
      // A first-level task belongs to one plan: forget it when the plan changes.
      if (sel.name === "plan" && sel.form.elements.task) { sel.form.elements.task.value = ""; }
      sel.form.submit();
    });
  });
})();
