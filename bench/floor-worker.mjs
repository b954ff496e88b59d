// The floor: what any Worker pays on this runtime to store and enqueue, before any relay
// logic. POST /d1 does one D1 write; POST /d1-queue one D1 write and one sendBatch of three
// messages (ingest's minimum: the event is stored, then three deliveries enqueued).
export default {
  async fetch(request, env) {
    const body = await request.text();
    await env.DB.prepare("INSERT INTO floor (body) VALUES (?)").bind(body).run();
    if (new URL(request.url).pathname === "/d1-queue") {
      await env.QUEUE.sendBatch([{ body: 1 }, { body: 2 }, { body: 3 }]);
    }
    return new Response("ok");
  },
  async queue(batch) {
    batch.ackAll();
  },
};
