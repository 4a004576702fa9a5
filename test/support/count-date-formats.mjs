// Preloaded into a gateway process (NODE_OPTIONS=--import): prints a line for every
// Intl.DateTimeFormat built, with the frame that built it, so that a test can say none was.
const Real = Intl.DateTimeFormat;
const report = () => {
  const frame = new Error().stack?.split('\n')[3]?.trim() ?? '?';
  process.stderr.write(`DATE-TIME-FORMAT BUILT ${frame.slice(0, 300)}\n`);
};
Intl.DateTimeFormat = new Proxy(Real, {
  construct(target, args, newTarget) {
    report();
    return Reflect.construct(target, args, newTarget);
  },
  apply(target, self, args) {
    report();
    return Reflect.apply(target, self, args);
  },
});
