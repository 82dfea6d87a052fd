package main

import "errors"

func runDAG(args []string) { die(errors.New("dag: not yet")) }
