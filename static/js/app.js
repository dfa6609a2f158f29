/* Every page: Chinese file pickers, the error summary in view (no inline scripts: CSP). */
(function () {
  document.querySelectorAll(".file-picker input[type=file]").forEach(function (input) {
    var out = input.parentNode.querySelector(".file-names");
    if (!out) { return; }
    input.addEventListener("change", function () {
      var names = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
      out.textContent = names.length ? "已选择 " + names.length + " 个文件：" + names.join("、") : out.getAttribute("data-empty");
    });
  });
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }  // focusing scrolls it into view only when it is off screen
})();
