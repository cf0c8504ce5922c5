// One deliberate mistake per variant (DEFECT=<name>), the same nine as examples/merchant/defects.py; empty:
// the correct app. Most are a branch in server.js. The two signing mistakes cannot be made through the SDK's
// signer, so they re-sign what the SDK built, as a hand-written signer would (a fetch middleware of the API).
'use strict';
const crypto = require('node:crypto');

const DEFECTS = {
  pretty_signed_body: 'signs the pretty-printed body instead of the minified one',
  utc_timestamp: 'sends UTC time labelled +07:00 in X-TIMESTAMP',
  no_webhook_verification: "applies Finish Notify without verifying DANA's signature",
  any_state: 'accepts an OAuth callback with a state it never issued',
  exchange_every_callback: 'calls Apply Token on every callback, even for a code already exchanged',
  duplicate_applied_twice: 'applies a duplicate Finish Notify a second time',
  ack_2000000: 'acknowledges Finish Notify with 2000000 instead of 2005600',
  hex_seamless_sign: 'sends a SHA-256 hex digest of seamlessData as seamlessSign',
  reused_reference: 'reuses one partnerReferenceNo for every payment',
};

function check(name) {
  if (name && !(name in DEFECTS)) {
    console.error(`DEFECT=${name} is unknown; known: ${Object.keys(DEFECTS).join(', ')}`);
    process.exit(2);
  }
  return name;
}

function sign(text) {
  return crypto.createSign('RSA-SHA256').update(text).sign(process.env.PRIVATE_KEY, 'base64');
}

function install(name, api) {
  if (name !== 'pretty_signed_body' && name !== 'utc_timestamp') return;
  api.middleware.push({
    pre: async ({ url, init }) => {
      const headers = init.headers;
      let timestamp = headers['X-TIMESTAMP'];
      let body = init.body || '';
      if (name === 'utc_timestamp') timestamp = new Date().toISOString().slice(0, 19) + '+07:00';
      else body = JSON.stringify(JSON.parse(body), null, 2);
      const path = new URL(url).pathname;
      const text = headers['X-CLIENT-KEY'] ? `${headers['X-CLIENT-KEY']}|${timestamp}`
        : `${init.method}:${path}:${crypto.createHash('sha256').update(body).digest('hex')}:${timestamp}`;
      return { url, init: { ...init, headers: { ...headers, 'X-TIMESTAMP': timestamp, 'X-SIGNATURE': sign(text) } } };
    },
  });
}

function hexSeamlessSign(url) {
  const parsed = new URL(url);
  const data = parsed.searchParams.get('seamlessData') || '';
  parsed.searchParams.set('seamlessSign', crypto.createHash('sha256').update(data).digest('hex'));
  return parsed.toString();
}

module.exports = { DEFECTS, check, install, hexSeamlessSign };
