// Dark and light themes; the choice is kept in localStorage.
const KEY = 'aiot-theme';

export function currentTheme() {
  return document.documentElement.getAttribute('data-theme') === 'light' ? 'light' : 'dark';
}

export function setTheme(theme) {
  document.documentElement.setAttribute('data-theme', theme);
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    /* storage blocked: the theme holds for this page only */
  }
}

export function initTheme(onChange) {
  const button = document.getElementById('theme-toggle');
  const label = () => {
    const next = currentTheme() === 'dark' ? 'light' : 'dark';
    button.title = `Switch to the ${next} theme`;
    button.dataset.theme = currentTheme();
  };
  label();
  button.addEventListener('click', () => {
    setTheme(currentTheme() === 'dark' ? 'light' : 'dark');
    label();
    onChange();
  });
}
