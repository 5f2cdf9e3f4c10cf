/** Writes docs/pipeline-file.schema.json from the TypeBox source (a test checks it is current). */
import { writeFileSync } from 'node:fs';
import { pipelineFileJsonSchemaText } from '../src/domain/pipeline-file/json-schema.js';

writeFileSync(new URL('../docs/pipeline-file.schema.json', import.meta.url), pipelineFileJsonSchemaText());
