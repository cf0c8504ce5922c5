// A small merchant backend on DANA's official Node SDK (dana-node 1.5.11), written the way DANA's Widget
// Binding guide shows its Node samples: the subject of dana-uat's merchant mode, like examples/merchant (Python).
// Same endpoints, same profile (../merchant/dana-uat.merchant.yaml), same nine DEFECT variants (defects.js).
//
// Where the guide's snippets do not run with the SDK, this file does what the SDK's source does
// (docs/merchant-mode.md, "Node: the guide's snippets and dana-node 1.5.11"):
//   - the API is `dana.widgetApi` (`const { WidgetApi } = danaClient` is undefined);
//   - WebhookParser comes from `dana-node/webhook/v1` (`dana-node/dist/webhook` is not exported);
//   - the checkout URL is `WidgetUtils.generateCompletePaymentUrl` (there is no `Util`);
//   - DANA's base URL is overridden with `widgetApi.configuration = new Configuration({ basePath })`
//     (`withPreMiddleware` clones the API without env, partnerId or privateKey and throws at start-up);
//   - `WidgetUtils.generateOauthUrl` hard-codes https://m.sandbox.dana.id: the host is replaced;
//   - the SDK reads PRIVATE_KEY only (and generateOauthUrl reads X_PARTNER_ID and PRIVATE_KEY from the
//     environment): PRIVATE_KEY_PATH is read here into PRIVATE_KEY.
//
// Configuration: X_PARTNER_ID, MERCHANT_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, ORIGIN; DANA_BASE_URL (a
// `dana-uat sandbox`), DANA_WEB_URL (default: the same); DANA_PUBLIC_KEY or DANA_PUBLIC_KEY_PATH (verifies
// Finish Notify); MERCHANT_BASE_URL (this app, its redirect and notify URLs derive from it); PORT; DEFECT.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { Dana, Configuration } = require('dana-node');
const { WidgetUtils } = require('dana-node/widget/v1');
const { WebhookParser } = require('dana-node/webhook/v1');
const defects = require('./defects');

const NOTIFY_PATH = '/v1.0/debit/notify';
const ACK = { responseCode: '2005600', responseMessage: 'Successful' };

function env(name, fallback) {
  const value = process.env[name] || fallback;
  if (!value) {
    console.error(`merchant-node example: set ${name} (see examples/merchant-node/README.md)`);
    process.exit(2);
  }
  return value;
}

if (!process.env.PRIVATE_KEY && process.env.PRIVATE_KEY_PATH) {   // dana-node reads PRIVATE_KEY only
  process.env.PRIVATE_KEY = fs.readFileSync(process.env.PRIVATE_KEY_PATH, 'utf8');
}
const DEFECT = defects.check(process.env.DEFECT || '');
const BASE = env('MERCHANT_BASE_URL').replace(/\/+$/, '');
const API_BASE = env('DANA_BASE_URL').replace(/\/+$/, '');
const WEB_BASE = (process.env.DANA_WEB_URL || API_BASE).replace(/\/+$/, '');
const MERCHANT_ID = env('MERCHANT_ID');
const DANA_PUBLIC_KEY = process.env.DANA_PUBLIC_KEY_PATH
  ? fs.readFileSync(process.env.DANA_PUBLIC_KEY_PATH, 'utf8') : env('DANA_PUBLIC_KEY');

const dana = new Dana({
  partnerId: env('X_PARTNER_ID'), privateKey: env('PRIVATE_KEY'), origin: process.env.ORIGIN || BASE, env: 'sandbox',
});
dana.widgetApi.configuration = new Configuration({ basePath: API_BASE });   // the signature covers the path only
defects.install(DEFECT, dana.widgetApi);
const parser = new WebhookParser(DANA_PUBLIC_KEY);

// The merchant's state (in memory: a real shop keeps it in its database).
const states = new Map();           // state -> { code }
const orders = new Map();           // partnerReferenceNo -> order
const seenNotifications = new Set();
let accessToken = null;             // the last bound user's (one demo shopper)

const jakarta = (date) => new Date(date.getTime() + 7 * 3600e3).toISOString().slice(0, 19) + '+07:00';

// -- binding ---------------------------------------------------------------------------------------
function bindUrl(phone) {
  let url = WidgetUtils.generateOauthUrl({
    redirectUrl: `${BASE}/oauth/callback`, merchantId: MERCHANT_ID,
    seamlessData: phone ? { mobileNumber: phone } : undefined,
  });
  url = url.replace('https://m.sandbox.dana.id', WEB_BASE);        // the SDK hard-codes DANA's web host
  states.set(new URL(url).searchParams.get('state'), {});           // the state the SDK generated
  return DEFECT === 'hex_seamless_sign' ? defects.hexSeamlessSign(url) : url;
}

async function callback(code, state) {
  let known = states.get(state);
  if (!known) {
    if (DEFECT !== 'any_state') return [400, { error: 'unknown state: this binding was not started here' }];
    known = {};
  }
  if (known.code === code && DEFECT !== 'exchange_every_callback') {
    return [200, { bound: true, note: 'code already exchanged' }];
  }
  try {
    const token = await dana.widgetApi.applyToken({ grantType: 'AUTHORIZATION_CODE', authCode: code });
    known.code = code;
    accessToken = token.accessToken;
    return [200, { bound: true }];
  } catch (error) {
    return [502, { error: `Apply Token failed: ${error.status || error.message}` }];
  }
}

// -- payment ---------------------------------------------------------------------------------------
async function pay(amount) {
  if (!accessToken) return [409, { error: 'bind a DANA account first (/bind)' }];
  const ref = DEFECT === 'reused_reference' ? 'ORDER-0001' : crypto.randomUUID().replace(/-/g, '');
  const now = new Date();
  try {
    const payment = await dana.widgetApi.widgetPayment({
      partnerReferenceNo: ref, merchantId: MERCHANT_ID, amount: { value: amount, currency: 'IDR' },
      validUpTo: jakarta(new Date(now.getTime() + 15 * 60e3)),
      urlParams: [{ url: BASE + NOTIFY_PATH, type: 'NOTIFICATION', isDeeplink: 'N' },
                  { url: `${BASE}/pay/return`, type: 'PAY_RETURN', isDeeplink: 'N' }],
      additionalInfo: {
        productCode: '51051000100000000001', mcc: '5732',
        order: { orderTitle: 'Example order', createdTime: jakarta(now) },
        envInfo: { sourcePlatform: 'IPG', terminalType: 'SYSTEM', orderTerminalType: 'WEB' },
      },
    });
    const ott = await dana.widgetApi.applyOTT({
      userResources: ['OTT'], additionalInfo: { accessToken, deviceId: 'example-device' },
    });
    orders.set(ref, { partnerReferenceNo: ref, amount, status: 'PENDING', fulfilments: 0 });
    return [200, { partnerReferenceNo: ref, checkoutUrl: WidgetUtils.generateCompletePaymentUrl(payment, ott) }];
  } catch (error) {
    return [502, { error: `DANA answered ${error.status || error.message}`, partnerReferenceNo: ref }];
  }
}

async function after(call, ref, status) {
  try {
    const answer = await call();
    if (orders.has(ref)) orders.get(ref).status = status;
    return [200, { partnerReferenceNo: ref, responseCode: answer.responseCode }];
  } catch (error) {
    return [502, { error: `DANA answered ${error.status || error.message}`, partnerReferenceNo: ref }];
  }
}

const refund = (ref, amount) => after(() => dana.widgetApi.refundOrder({
  merchantId: MERCHANT_ID, originalPartnerReferenceNo: ref, partnerRefundNo: crypto.randomUUID().replace(/-/g, ''),
  refundAmount: { value: amount, currency: 'IDR' }, reason: 'Customer request', additionalInfo: { envInfo: {} },
}), ref, 'REFUNDED');

const cancel = (ref) => after(() => dana.widgetApi.cancelOrder({
  originalPartnerReferenceNo: ref, merchantId: MERCHANT_ID, reason: 'Customer request',
}), ref, 'CANCELLED');

// -- Finish Notify ---------------------------------------------------------------------------------
function notify(path, headers, raw) {
  let body;
  try {   // exactly as DANA's WebhookParser verifies: the signature over the received bytes, no time window
    body = DEFECT === 'no_webhook_verification' ? JSON.parse(raw) : parser.parseWebhook('POST', path, headers, raw);
  } catch (error) {
    return DEFECT === 'no_webhook_verification'
      ? [400, { responseCode: '4005600', responseMessage: 'Bad Request' }]
      : [401, { responseCode: '4015600', responseMessage: `Unauthorized. ${error.message}` }];
  }
  const ref = body.originalPartnerReferenceNo;
  const status = body.latestTransactionStatus;
  const order = orders.get(ref);
  if (!order) return [404, { responseCode: '4045601', responseMessage: 'Transaction Not Found' }];
  const key = `${ref}:${status}`;
  if (!seenNotifications.has(key) || DEFECT === 'duplicate_applied_twice') {
    seenNotifications.add(key);
    order.status = { '00': 'PAID', '05': 'CLOSED' }[status] || 'FAILED';
    order.fulfilments += status === '00' ? 1 : 0;
  }
  return DEFECT === 'ack_2000000' ? [200, { responseCode: '2000000', responseMessage: 'Successful' }] : [200, ACK];
}

// -- HTTP ------------------------------------------------------------------------------------------
function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/html' : 'application/json', ...headers });
  res.end(text);
}

async function route(req, res, raw) {
  const url = new URL(req.url, BASE);
  const q = url.searchParams;
  const json = () => { try { return JSON.parse(raw || '{}'); } catch { return {}; } };
  const at = `${req.method} ${url.pathname}`;
  if (at === 'GET /bind') {
    const target = bindUrl(q.get('phone'));
    return q.get('format') === 'json' ? send(res, 200, { bindUrl: target }) : send(res, 302, {}, { Location: target });
  }
  if (at === 'GET /oauth/callback') return send(res, ...(await callback(q.get('authCode') || '', q.get('state') || '')));
  if (url.pathname === '/pay' && ['GET', 'POST'].includes(req.method)) {
    const amount = String((req.method === 'POST' ? json() : Object.fromEntries(q)).amount || '');
    if (!amount) return send(res, 400, { error: 'amount is required, e.g. 10000.00' });
    return send(res, ...(await pay(amount)));
  }
  if (at === 'POST /refund') return send(res, ...(await refund(String(json().partnerReferenceNo || ''), String(json().amount || ''))));
  if (at === 'POST /cancel') return send(res, ...(await cancel(String(json().partnerReferenceNo || ''))));
  if (at === `POST ${NOTIFY_PATH}`) return send(res, ...notify(url.pathname, req.headers, raw));
  if (req.method === 'GET' && url.pathname.startsWith('/orders/')) {
    const order = orders.get(decodeURIComponent(url.pathname.slice('/orders/'.length)));
    return send(res, order ? 200 : 404, order || { error: 'unknown order' });
  }
  if (at === 'GET /account') {
    return send(res, 200, "<!doctype html><title>Account</title><a id='link-dana' "
      + "href='/bind?phone=083811223355'>Link your DANA account</a>");
  }
  if (at === 'GET /pay/return') return send(res, 200, { returned: Object.fromEntries(q) });
  return send(res, 404, { error: 'not found' });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    route(req, res, Buffer.concat(chunks).toString('utf8'))
      .catch((error) => send(res, 500, { error: String(error && error.message) }));
  });
});
const port = Number(process.env.PORT || 8000);
server.listen(port, '127.0.0.1', () => console.log(`merchant-node listening on http://127.0.0.1:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
