/**
 * Text from the warehouse (error messages of the run history, silence reasons and authors) as a
 * terminal may show it: control characters (line breaks that break a table's layout, escape
 * sequences that clear the screen or rewrite what was printed before) become `?`. Tables and
 * reports for people use it; JSON and CSV keep the text as it is, escaped by their own rules.
 */
// eslint-disable-next-line no-control-regex
export const printable = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
