// The usage dashboard's only script: it enhances, every number works without it.
// Choosing a period shows the page for it at once; the date fields show only for "custom".
(function () {
  'use strict';
  var form = document.getElementById('period-form');
  if (!form) return;
  var select = document.getElementById('period');
  var custom = form.querySelector('.custom');
  var show = document.getElementById('show');
  function sync() {
    var isCustom = select.value === 'custom';
    custom.hidden = !isCustom;
    show.hidden = !isCustom;
  }
  select.addEventListener('change', function () {
    sync();
    if (select.value !== 'custom') form.submit();
  });
  sync();
})();
