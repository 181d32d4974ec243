// An OpenID Connect provider that is not ours (npm oidc-provider), for the sign-in tests.
// Usage: node tests/oidc/provider.mjs <port> <client_id> <client_secret> <redirect_uri>[,<redirect_uri>...]
// Its own login page accepts any login name; the account's claims come from ACCOUNTS below
// (unknown names get a learner without groups). Prints "ready <issuer>" when it listens.
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUris] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const ACCOUNTS = {
  "anna": { name: "Anna Bakker", email: "anna@zorg.example", email_verified: true, groups: ["hechtwijzer-learners"] },
  "tom": { name: "Tom Visser", email: "tom@zorg.example", email_verified: false, groups: [] },
  "trainer": { name: "Ria Trainer", email: "ria@zorg.example", email_verified: true, groups: ["hechtwijzer-trainers"] },
};

const configuration = {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris.split(","),
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  // groups in the profile scope, as a Keycloak group mapper or an Entra ID groups claim delivers it
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "groups"] },
  scopes: ["openid", "email", "profile"],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["test-only-cookie-key"] },
  async findAccount(ctx, id) {
    const known = ACCOUNTS[id] || { name: `Gebruiker ${id}`, email: `${id}@zorg.example`, email_verified: true, groups: [] };
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...known };
      },
    };
  },
  // The test app asks for consent-free login: grant what the client asked for.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email profile");
    grant.addOIDCClaims(["email", "email_verified", "name", "groups"]);
    await grant.save();
    return grant;
  },
};

const provider = new Provider(issuer, configuration);
provider.listen(Number(port), "127.0.0.1", () => {
  process.stdout.write(`ready ${issuer}\n`);
});
