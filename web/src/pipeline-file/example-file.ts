/** The file the Pipeline file page starts with: short, valid, and showing needs and a matrix. */
export function exampleFile(origin: string): string {
  return `# yaml-language-server: $schema=${origin}/api/schemas/pipeline-file.json
steps:
  - name: install
    run: npm ci
  - name: test
    run: npm test
    needs: [install]
    matrix:
      NODE: ["20", "22"]
  - name: build
    run: npm run build
    needs: [install]
  - name: publish
    run: ./scripts/publish.sh
    needs: [test, build]
`;
}
