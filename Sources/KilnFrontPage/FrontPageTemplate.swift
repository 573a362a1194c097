/// The front page's markup: server-rendered, no script, one table whose header cells name their
/// scope, a caption, link text that is the address it goes to, and a small inline style sheet
/// (contrast at least 7:1 for text, a visible focus ring). On a narrow screen each row becomes a
/// block whose cells say their column; the explicit roles keep it a table for screen readers,
/// which a changed `display` would otherwise take away. Every `{{value}}` is HTML-escaped by
/// Mustache; the template never uses the unescaped forms.
enum FrontPageTemplate {
    static let text = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Tools on {{domain}} · Kiln</title>
        <style>
        body{font:1rem/1.5 system-ui,"DejaVu Sans",sans-serif;color:#1b1b1b;background:#fff;margin:0 auto;padding:1rem;max-width:64rem}
        h1{font-size:1.75rem;margin:.5rem 0}
        a{color:#0645ad}a:focus-visible{outline:3px solid #1b1b1b;outline-offset:2px}
        .scroll{overflow-x:auto}.scroll:focus-visible{outline:3px solid #0645ad}
        table{border-collapse:collapse;width:100%;min-width:36rem}
        caption{text-align:left;font-weight:bold;padding:.5rem 0}
        th,td{text-align:left;vertical-align:top;padding:.5rem;border-bottom:1px solid #767676;overflow-wrap:anywhere}
        thead th{border-bottom:2px solid #1b1b1b}
        .state{display:inline-block;padding:0 .5rem;border-radius:.25rem;border:1px solid}
        .up{background:#e6f4ea;color:#0d4d22}.busy{background:#fff4ce;color:#4d3800}
        .down{background:#fde7e9;color:#8a1020}.off,.unknown{background:#f0f0f0;color:#333}
        footer{margin-top:2rem;color:#444;font-size:.875rem}
        @media (max-width:40rem){
        table{min-width:0}
        thead tr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
        tr{display:block;padding:.5rem 0;border-bottom:1px solid #767676}
        tbody th,td{display:block;border:0;padding:.125rem 0}
        td::before{content:attr(data-label) ": ";content:attr(data-label) ": " / "";font-weight:bold}
        }
        </style>
        </head>
        <body>
        <header>
        <h1>Tools on {{domain}}</h1>
        <p>{{summary}}</p>
        </header>
        <main>
        {{#hasTools}}
        <div class="scroll" role="region" aria-labelledby="tools-caption" tabindex="0">
        <table role="table">
        <caption id="tools-caption">Tools, their maintainers and their webservices</caption>
        <thead role="rowgroup">
        <tr role="row"><th scope="col" role="columnheader">Tool</th><th scope="col" role="columnheader">Maintainers</th><th scope="col" role="columnheader">Webservice</th><th scope="col" role="columnheader">State</th><th scope="col" role="columnheader">Address</th></tr>
        </thead>
        <tbody role="rowgroup">
        {{#rows}}
        <tr role="row">
        <th scope="row" role="rowheader">{{toolName}}</th>
        <td role="cell" data-label="Maintainers">{{maintainers}}</td>
        <td role="cell" data-label="Webservice">{{webserviceType}}</td>
        <td role="cell" data-label="State"><span class="state {{stateClass}}">{{state}}</span></td>
        <td role="cell" data-label="Address">{{#pathLink}}<a href="{{href}}">{{text}}</a>{{/pathLink}}{{#hostLink}}<br><a href="{{href}}">{{text}}</a>{{/hostLink}}{{^served}}not served{{/served}}</td>
        </tr>
        {{/rows}}
        </tbody>
        </table>
        </div>
        {{/hasTools}}
        {{^hasTools}}
        <p>No tools yet. The platform's operator creates one with <code>kiln tools create NAME</code>; its maintainers then start its webservice with <code>kiln webservice TYPE start</code>.</p>
        {{/hasTools}}
        </main>
        <footer>
        <p>This list is rendered by Kiln, the platform that hosts these tools. It is refreshed every few seconds.</p>
        </footer>
        </body>
        </html>

        """
}
