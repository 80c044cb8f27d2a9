// The one compilation error for a registry or vars that cannot be used (includes/pem.js gathers
// them): every other definition compiles against a stand-in, so this is the only error shown, and
// without a stack (Dataform prints one "at CallSite {}" line per frame, which says nothing here).
if (pem.problems.length > 0) {
  const error = new Error(pem.problems.join('\n'));
  error.stack = `Error: ${error.message}`;
  throw error;
}
