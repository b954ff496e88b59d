// The ceiling: a bare Worker that reads the POST body (so connections stay alive) and answers 200.
export default {
  async fetch(request) {
    await request.arrayBuffer();
    return new Response("ok");
  },
};
