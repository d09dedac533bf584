// Validates Kubernetes objects against the API schemas shipped by
// kubernetes-models (each class checks itself on .validate()).
//
// Input (stdin, JSON): [{"source": "file", "object": {...}}, ...]
// Output: one line per object; exit status 1 when any is invalid or of a
// kind the package does not know.
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const docs = JSON.parse(Buffer.concat(chunks).toString("utf8"));

let failures = 0;
for (const { source, object } of docs) {
    const { apiVersion, kind } = object;
    const name = object.metadata?.name ?? "?";
    const where = `${source}: ${apiVersion} ${kind} ${name}`;
    let Model;
    try {
        const mod = await import(`kubernetes-models/${apiVersion}`);
        Model = mod[kind];
    } catch (err) {
        Model = undefined;
    }
    if (typeof Model !== "function") {
        console.log(`FAIL ${where}: unknown apiVersion/kind`);
        failures++;
        continue;
    }
    try {
        new Model(object).validate();
        console.log(`ok   ${where}`);
    } catch (err) {
        console.log(`FAIL ${where}: ${err.message}`);
        failures++;
    }
}
process.exit(failures ? 1 : 0);
