// Formatters made once: Intl objects are costly to build, cheap to reuse
// (a toLocaleTimeString call with options builds one each time).
const clockFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

// "14:05:09" in the reader's locale.
export function clock(time) {
  return clockFormat.format(time);
}
