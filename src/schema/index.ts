import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './file.js';
import './version.js';
import './upload.js';
import './custom-metadata-field.js';
import './asset.js';
import './folder.js';
import './library.js';
import './manage.js';
import './file-metadata.js';
import './extensions.js';
import './subscriptions.js';
import './webhooks.js';
import './signed-url.js';

builder.queryType({});
builder.mutationType({});

export const schema = lexicographicSortSchema(builder.toSchema());
