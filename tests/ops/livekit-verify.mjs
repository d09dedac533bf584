// Verifies a LiveKit access token with LiveKit's own server SDK
// (livekit-server-sdk's TokenVerifier), the way a LiveKit server checks the
// tokens clients present, and prints the outcome as one JSON line.
//
// Input (stdin, JSON): {"key": API_KEY, "secret": API_SECRET, "token": JWT,
//                       "reference": {"identity", "name", "room"}}   (optional)
// Output: {"ok": true, "claims": {...}, "reference": {...}} or
//         {"ok": false, "error": "..."}
// "reference" is the payload of a token the SDK itself mints for the same
// identity, name and room with the grants signald documents, so that the
// test can compare shapes.
import { AccessToken, TokenVerifier } from "livekit-server-sdk";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const out = {};
try {
    out.claims = await new TokenVerifier(input.key, input.secret).verify(input.token, 0);
    out.ok = true;
} catch (err) {
    out.ok = false;
    out.error = `${err.code || err.name}: ${err.message}`;
}
if (input.reference) {
    const ref = new AccessToken(input.key, input.secret, {
        identity: input.reference.identity,
        name: input.reference.name,
        ttl: 600,
    });
    ref.addGrant({
        room: input.reference.room,
        roomJoin: true,
        canPublish: true,
        canSubscribe: true,
    });
    out.reference = await new TokenVerifier(input.key, input.secret).verify(await ref.toJwt());
}
process.stdout.write(JSON.stringify(out) + "\n");
