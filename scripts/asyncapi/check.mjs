import { Parser, fromFile } from '@asyncapi/parser';
const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, process.argv[2]).parse();
const errors = diagnostics.filter(d => d.severity === 0);
for (const d of diagnostics) console.log(`${['error','warning','info','hint'][d.severity]}: ${d.message} at ${d.path.join('.')}`);
if (!document || errors.length) process.exit(1);
console.log(`asyncapi: valid, ${document.channels().length} channels, ${document.messages().length} messages`);
