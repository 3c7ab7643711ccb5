// The operating system a node names in its `os` resource, as one of the
// icons in icons/ (drawn for this page), or null.
const ICONS = {
  riot: { file: 'icons/riot.svg', name: 'RIOT' },
  micropython: { file: 'icons/micropython.svg', name: 'MicroPython' },
  android: { file: 'icons/android.svg', name: 'Android' },
  linux: { file: 'icons/linux.svg', name: 'Linux' },
};

export function osKind(value) {
  const text = String(value === undefined || value === null ? '' : value).trim().toLowerCase();
  if (text === '') return null;
  if (text.includes('micropython') || text === 'upython') return 'micropython';
  if (text.includes('riot')) return 'riot';
  if (text.includes('android')) return 'android';
  if (text.includes('linux') || text.includes('debian') || text.includes('ubuntu') || text.includes('raspbian')) return 'linux';
  return null;
}

// {file, name} of the icon for an os value, or null.
export function osIcon(value) {
  const kind = osKind(value);
  return kind ? ICONS[kind] : null;
}
