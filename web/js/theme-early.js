// Applies the saved (or the system's) theme before the page is drawn.
(function () {
  var theme = null;
  try { theme = localStorage.getItem('aiot-theme'); } catch (e) { /* storage blocked */ }
  if (theme !== 'dark' && theme !== 'light') {
    theme = window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches
      ? 'light' : 'dark';
  }
  document.documentElement.setAttribute('data-theme', theme);
})();
