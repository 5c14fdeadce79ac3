/* Unpacks the page's script (report.js, gzipped and base64-encoded in #glassbox-script) and runs it. */
(function () {
  const bytes = Uint8Array.from(atob(document.getElementById('glassbox-script').textContent), c => c.charCodeAt(0));
  new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text().then(code => {
    const script = document.createElement('script');
    script.textContent = code;
    document.head.append(script);
  }).catch(error => {
    document.getElementById('view').textContent = `This report could not be drawn (${error}); it needs a browser from 2023 or later.`;
  });
})();
