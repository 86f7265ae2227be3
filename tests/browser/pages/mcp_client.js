// The page script of mcp_cors.test.mjs, bundled for the browser by esbuild: the official
// TypeScript MCP SDK client connects to the server named in `?mcp=`, lists the tools and
// calls listProducts, and the page shows (and keeps in window.__mcpResult) what happened.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const show = (id, text) => {
  document.getElementById(id).textContent = text;
};

async function run() {
  const url = new URL(location.href).searchParams.get('mcp');
  show('origin', location.origin);
  show('server', url);
  const result = { origin: location.origin, ok: false, tools: 0, products: null, error: null };
  try {
    const client = new Client({ name: 'browser-page', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const { tools } = await client.listTools();
    result.tools = tools.length;
    show('tools', `${tools.length} tools, e.g. ${tools.slice(0, 3).map((t) => t.name).join(', ')}`);
    const call = await client.callTool({ name: 'listProducts', arguments: {} });
    if (call.isError) throw new Error(`listProducts failed: ${call.content?.[0]?.text}`);
    const products = call.structuredContent?.products ?? [];
    result.products = products.length;
    show('products', `${products.length} products: ${products.slice(0, 3).map((p) => p.name_intern ?? p.name ?? p.id).join(', ')}`);
    result.ok = true;
    await client.close();
  } catch (error) {
    result.error = `${error?.name}: ${error?.message}`;
  }
  show('status', result.ok ? 'connected: tools listed, listProducts called' : `failed: ${result.error}`);
  document.body.className = result.ok ? 'ok' : 'failed';
  window.__mcpResult = result;
}

run();
