"""`make bench`: the whole path measured, each figure beside a baseline from the same run (see __main__)."""
