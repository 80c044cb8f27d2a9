// The one compilation error for a registry or vars that cannot be used (includes/pem.js gathers
// them): every other definition compiles against a stand-in, so this is the only error shown, and
// without a stack (Dataform prints one "at CallSite {}" line per frame, which says nothing here).
// The stand-in's actions (this file runs after definitions/nba_reference/) are disabled too: a
// compilation with errors is not meant to run, and if one ever did, nothing of it would.
if (pem.problems.length > 0) {
  for (const action of dataform.actions) if (typeof action.disabled === 'function') action.disabled(true);
  const error = new Error(pem.problems.join('\n'));
  error.stack = `Error: ${error.message}`;
  throw error;
}
