// Admin pages: ask before submitting forms marked with data-confirm (no inline scripts: CSP).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form && form.getAttribute && form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
