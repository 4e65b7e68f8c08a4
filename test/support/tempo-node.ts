// The Tempo stand-in lives in src/sandbox/ (`serve --sandbox` runs it); the tests import it from here.
export * from '../../src/sandbox/tempo-node.js'
